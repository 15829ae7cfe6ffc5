import { a } from "file:///work/wt/import/tools/amplify_gen2/backend-shim.mjs";
const schema = a.schema({ Todo: a.model({ x: a.strin() }) });
export { schema };
