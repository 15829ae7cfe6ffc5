// Stands in for @aws-amplify/backend when transform.mjs loads a resource.ts: the real `a`, and a
// defineData that hands back what it was given.
export { a } from "@aws-amplify/data-schema";
export const defineData = (props) => ({ ...props, __modelauthData: true });
// a.handler.function(defineFunction({...})) only needs an object; the handler is not imported
export const defineFunction = (props) => ({
  ...props,
  getInstance: () => {
    throw new Error("modelauth import does not build functions");
  },
});
