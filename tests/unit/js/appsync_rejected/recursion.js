// no-recursion: found with TypeScript's type information (the `recommended` rules)
function depth(node) {
  return node.children.length === 0 ? 1 : 1 + depth(node.children[0]);
}

export function response(ctx) {
  return depth(ctx.result);
}
