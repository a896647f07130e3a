// Failed pubsub requests about key nodes, classified by their RFC 6120 / XEP-0060 conditions into a stable code
// (error-codes.ts) and one plain sentence naming the node. What the user should do next is the caller's to say
// (the CLI adds its flags): these sentences only say what happened.
import { IqError, type KeyProblem } from './errors.ts';
import type { NodeOptions } from './pubsub.ts';

/** A failed publish (XEP-0060 §7.1.3, §7.1.5); undefined when the condition says it better than we could. */
export function publishProblem(err: unknown, ctx: { node: string; options?: NodeOptions }): KeyProblem | undefined {
  if (!(err instanceof IqError)) return undefined;
  const access = ctx.options?.accessModel;
  if (err.appCondition === 'precondition-not-met') {
    return { code: 'node-conflict', message: `the node ${ctx.node} already exists with a different configuration than requested${access ? ` (access model ${access})` : ''}` };
  }
  if (err.appCondition === 'unsupported-access-model' || (err.condition === 'not-acceptable' && access !== undefined && access !== 'open' && access !== 'presence')) {
    return { code: 'access-model-unsupported', message: `the server refused the '${access}' access model (${err.condition}): its PEP service does not support it` };
  }
  if (err.condition === 'not-acceptable' && access) return { code: 'options-not-acceptable', message: `the server refused the requested node options (access model ${access}) as not acceptable` };
  if (err.appCondition === 'unsupported' || err.condition === 'feature-not-implemented') {
    return { code: 'pubsub-feature-unsupported', message: `the server does not support this part of publish-subscribe (${err.appCondition ?? err.condition}) for node ${ctx.node}` };
  }
  if (err.condition === 'forbidden' || err.condition === 'not-authorized') return { code: 'publish-forbidden', message: `the server does not let this account publish to ${ctx.node} (${err.condition})` };
  return undefined;
}

/** A failed retrieval of someone else's items (XEP-0060 §6.5.9). */
export function retrieveProblem(err: unknown, jid: string, node: string): KeyProblem {
  if (!(err instanceof IqError)) return { code: 'retrieval-failed', message: (err as Error).message };
  switch (err.appCondition) {
    case 'presence-subscription-required':
      return { code: 'access-denied', message: `${jid} shares ${node} only with contacts subscribed to their presence` };
    case 'not-in-roster-group':
      return { code: 'access-denied', message: `${jid} shares ${node} only with certain roster groups, and you are not in them` };
    case 'closed-node':
      return { code: 'access-denied', message: `${jid} shares ${node} only with a whitelist of contacts` };
  }
  switch (err.condition) {
    case 'item-not-found':
      return { code: 'no-key', message: `${jid} has published nothing on ${node}` };
    case 'not-authorized':
    case 'forbidden':
      return { code: 'access-denied', message: `${jid} does not share ${node} with you (${err.condition})` };
    case 'service-unavailable':
    case 'feature-not-implemented':
      return { code: 'retrieval-unsupported', message: `${jid}'s server does not offer PEP retrieval (${err.condition})` };
    default:
      return { code: 'retrieval-failed', message: `cannot read ${node} of ${jid}: ${err.condition}` };
  }
}
