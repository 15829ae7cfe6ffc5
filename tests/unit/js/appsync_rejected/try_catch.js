// no-try: APPSYNC_JS has no try/catch
import { util } from "@aws-appsync/utils";

export function response(ctx) {
  try {
    return JSON.parse(ctx.result.body);
  } catch (e) {
    return util.error("bad body", "BadResponse");
  }
}
