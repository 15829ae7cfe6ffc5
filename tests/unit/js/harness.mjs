// Runs one handler of an APPSYNC_JS module under node.
// usage: node harness.mjs <module.js>  < {"handler": "request"|"response", "ctx": {...}, "authType": "..."}
// prints: {"returned": <value>, "halted": <util.error called>, "calls": [{fn, args}]}
// The module's directory must hold node_modules/@aws-appsync/utils (this directory's stub).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const testCase = JSON.parse(readFileSync(0, 'utf8'));
globalThis.__appsync = { authType: testCase.authType ?? null, calls: [] };

const mod = await import(pathToFileURL(process.argv[2]).href);
let returned = null;
let halted = false;
try {
  returned = mod[testCase.handler](testCase.ctx);
} catch (err) {
  if (err?.constructor?.name !== 'UtilErrorHalt') throw err;
  halted = true;
}
// undefined is not JSON: report it as null (arrays) or drop it (objects), like AppSync does.
const out = { returned: returned ?? null, halted, calls: globalThis.__appsync.calls };
// a handler may write ctx.stash (invoke.js hands the subscription filter to the resolver that way)
if (testCase.ctx && testCase.ctx.stash !== undefined) out.stash = testCase.ctx.stash;
process.stdout.write(JSON.stringify(out));
