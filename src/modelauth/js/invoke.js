/**
 * The one APPSYNC_JS pipeline function of every modelauth resolver.
 *
 * request: invokes the resolver Lambda with the direct-resolver event plus `authType`
 * (util.authType()), because the event alone cannot tell OIDC from user pools or Lambda auth.
 * response: the Lambda always answers {data, errors}; a Lambda can't call util.unauthorized(),
 * so this turns the envelope into GraphQL errors with the exact message and errorType.
 * Written for the APPSYNC_JS subset: no try/throw/while/++ and no C-style for loops.
 */
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return {
    operation: 'Invoke',
    payload: {
      arguments: ctx.arguments,
      identity: ctx.identity,
      source: ctx.source,
      request: ctx.request,
      info: ctx.info,
      prev: ctx.prev,
      stash: ctx.stash,
      authType: util.authType(),
    },
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const envelope = ctx.result ?? {};
  if (envelope.subscriptionFilter) {
    // Subscribe time: the resolver's response (graphql/subscription.js) installs the filter.
    ctx.stash.subscriptionFilter = envelope.subscriptionFilter;
  }
  const data = envelope.data ?? null;
  const errors = envelope.errors ?? [];
  if (errors.length > 0 && data === null) {
    // Nothing to return: fail the field with the first error (e.g. Unauthorized on getTodo).
    const first = errors[0];
    util.error(first.message, first.errorType, null, first.errorInfo);
  }
  // Partial result (e.g. fields masked for this caller): keep the data, report every error.
  for (const e of errors) {
    util.appendError(e.message, e.errorType, null, e.errorInfo);
  }
  return data;
}
