// no-disallowed-methods: found with TypeScript's type information (the `recommended` rules):
// the type checker knows `Object` is the ObjectConstructor and `String(...)` a string
export function response(ctx) {
  return Object.freeze({ id: String(ctx.result.id).padStart(8, "0") });
}
