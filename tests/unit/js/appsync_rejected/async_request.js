// no-async, no-await: no promises in APPSYNC_JS
export async function request(ctx) {
  return { payload: await ctx.prev.result };
}
