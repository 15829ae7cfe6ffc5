// no-for, no-continue: only for-in / for-of loops, and no `continue`
export function request(ctx) {
  const ids = [];
  for (let i = 0; i < ctx.args.ids.length; i += 1) {
    if (!ctx.args.ids[i]) continue;
    ids.push(ctx.args.ids[i]);
  }
  return { payload: ids };
}
