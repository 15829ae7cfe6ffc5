// `make lint`: AWS's @aws-appsync/eslint-plugin on the APPSYNC_JS resolver code, so what the
// APPSYNC_JS runtime would reject at deploy time (for(;;), continue, try/catch, async, recursion,
// disallowed methods...) fails here first. `recommended` adds the rules that need TypeScript's
// type information: tsconfig.json gives it, with @aws-appsync/utils' types for `util`.
// tests/unit/js/appsync_rejected/ holds snippets these rules must reject (tests/unit/test_appsync_js_lint.py).
import appsync from "@aws-appsync/eslint-plugin";

const APPSYNC_JS = ["example/graphql/*.js", "src/modelauth/js/*.js", "tests/unit/js/appsync_rejected/*.js"];

export default [
  { ignores: ["**/.aws-sam/", "build/", ".venv*/"] },
  {
    ...appsync.configs.recommended,
    files: APPSYNC_JS,
    languageOptions: {
      ...appsync.configs.recommended.languageOptions,
      sourceType: "module",
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
];
