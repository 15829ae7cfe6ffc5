// `modelauth import amplify-gen2 resource.ts`: print the Gen 1-style SDL Amplify's own
// @aws-amplify/data-schema derives from the file's a.schema(...), as JSON on stdout:
// {"sdl": "...", "defaultAuthorizationMode": "userPool" | ...}. The TypeScript is only stripped of
// its types (typescript's transpileModule); `@aws-amplify/backend` is replaced by a stand-in whose
// `a` is data-schema's and whose defineData returns its argument, so nothing else is needed.
import { readFileSync, writeFileSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));
const [file] = process.argv.slice(2);
const where = (err) => {
  // the first stack frame in the user's file, mapped back to resource.ts by the source map
  const frame = String(err && err.stack).split("\n").find((l) => l.includes(`${basename(file)}:`));
  const line = frame && frame.match(/:(\d+):\d+\)?$/);
  return line ? `${line[1]}: ` : "";
};
const message = (err) => String(err && err.message ? err.message : err).split("\n")[0];
const fail = (message) => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};
let source;
try {
  source = readFileSync(file, "utf8");
} catch (err) {
  fail(`cannot read ${file}: ${err.code ?? err.message}`);
}
const out = ts.transpileModule(source, {
  // the inline source map lets node (--enable-source-maps) name resource.ts lines in errors
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
  reportDiagnostics: true,
  fileName: file,
});
const syntax = (out.diagnostics ?? []).find((d) => d.category === ts.DiagnosticCategory.Error);
if (syntax) {
  const { line } = syntax.file.getLineAndCharacterOfPosition(syntax.start ?? 0);
  fail(`${line + 1}: ${ts.flattenDiagnosticMessageText(syntax.messageText, " ")}`);
}
const shim = pathToFileURL(join(here, "backend-shim.mjs")).href;
const code = out.outputText.replace(/(from\s*|import\s*\(\s*)(["'])@aws-amplify\/backend\2/g, `$1"${shim}"`);
const local = code.match(/from\s*["'](\.[^"']*)["']/);
if (local) fail(`imports ${local[1]}: only @aws-amplify/backend can be imported (inline what the schema needs)`);
const temp = join(here, `.resource-${process.pid}.mjs`);
writeFileSync(temp, code);
let mod;
let loadError;
try {
  mod = await import(pathToFileURL(temp).href);
} catch (err) {
  loadError = err; // fail() exits the process, which would skip the finally below
} finally {
  unlinkSync(temp);
}
if (loadError) fail(`${where(loadError)}${message(loadError)}`);
const data = Object.values(mod).find((v) => v && v.__modelauthData);
const schema = data ? data.schema : Object.values(mod).find((v) => v && typeof v.transform === "function");
if (!schema || typeof schema.transform !== "function") {
  fail("no defineData({ schema }) or a.schema(...) export found");
}
let sdl;
try {
  sdl = schema.transform().schema;
} catch (err) {
  fail(`${where(err)}${message(err)}`);
}
const modes = (data && data.authorizationModes) || {};
// each model's .identifier([...]) as written: the SDL carries only the fields that exist
const identifiers = Object.fromEntries(
  Object.entries(schema.data?.types ?? {})
    .filter(([, type]) => Array.isArray(type?.data?.identifier))
    .map(([name, type]) => [name, type.data.identifier]),
);
process.stdout.write(
  JSON.stringify({ sdl, defaultAuthorizationMode: modes.defaultAuthorizationMode ?? null, identifiers }),
);
