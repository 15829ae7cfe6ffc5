// Test stand-in for '@aws-appsync/utils' (the real one only exists inside AppSync).
// util.error records the call and stops evaluation, as AppSync does; appendError only records.
// State lives on globalThis.__appsync so the harness can set authType and read the calls.
const state = () => globalThis.__appsync;

export class UtilErrorHalt extends Error {}

export const util = {
  authType: () => state().authType,
  error(message, errorType, data, errorInfo) {
    state().calls.push({ fn: 'error', args: [message, errorType, data, errorInfo] });
    throw new UtilErrorHalt(String(message));
  },
  appendError(message, errorType, data, errorInfo) {
    state().calls.push({ fn: 'appendError', args: [message, errorType, data, errorInfo] });
  },
};

export const extensions = {
  setSubscriptionFilter(filter) {
    state().calls.push({ fn: 'setSubscriptionFilter', args: [filter] });
  },
};
