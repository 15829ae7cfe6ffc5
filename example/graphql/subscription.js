/**
 * Resolver-level code of every Subscription field (onCreateX, onUpdateX, onDeleteX).
 *
 * The pipeline's one function (invoke.js) asks the resolver Lambda whether the caller may listen:
 * a denial fails the subscription with Unauthorized; an allow may come with an enhanced
 * subscription filter (owner = caller, caller's group in the item's groups, ...) which this
 * response installs, so AppSync drops every event the caller may not read.
 */
import { extensions } from '@aws-appsync/utils';

export function request(ctx) {
  return {};
}

export function response(ctx) {
  if (ctx.stash.subscriptionFilter) {
    extensions.setSubscriptionFilter(ctx.stash.subscriptionFilter);
  }
  return null;
}
