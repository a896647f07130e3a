// XEP-0060 §7.1.5 publish-options: every field is a precondition checked against the node configuration
// of the same name; unknown fields reject the publication; a missing node is auto-created with the
// defaults overridden by the options.
import type { NodeConfig } from '../../storage/types.ts';
import { normalizeConfig, sameFieldValue } from './config.ts';
import { errors, type PubsubError } from './errors.ts';

export type PreparedOptions =
  | { ok: true; options: NodeConfig }
  | { ok: false; error: PubsubError; unsupportedAccessModel?: string };

/** Validates and canonicalises publish-options. FORM_TYPE (XEP-0068) is the form's, not a precondition. */
export function preparePublishOptions(raw: NodeConfig): PreparedOptions {
  const input: NodeConfig = {};
  for (const [k, v] of Object.entries(raw)) if (k !== 'FORM_TYPE') input[k] = v;
  const r = normalizeConfig(input);
  if (r.ok) return { ok: true, options: r.config };
  const p = r.problem;
  switch (p.kind) {
    case 'unknown-field':
      // §7.1.5: "MUST reject the publication upon encountering unknown fields".
      return { ok: false, error: errors.invalidOptions(`unknown publish option pubsub#${p.field}`) };
    case 'bad-value':
      return { ok: false, error: errors.invalidOptions(`invalid value for pubsub#${p.field}`) };
    case 'unsupported-access-model':
      // §8.1.2 for a node we would create; on an existing node the engine reports precondition-not-met.
      return { ok: false, error: errors.unsupportedAccessModel(p.value), unsupportedAccessModel: p.value };
  }
}

/**
 * §7.1.5 rule 1: on an existing node each option must equal the node's (effective) configuration;
 * returns the first mismatching field, or undefined when every precondition is met.
 */
export function unmetPrecondition(options: NodeConfig, current: NodeConfig): string | undefined {
  for (const [field, value] of Object.entries(options)) {
    if (!sameFieldValue(value, current[field])) return field;
  }
  return undefined;
}

/** Checks prepared options against an existing node; returns the error to send, if any. */
export function checkPreconditions(prepared: PreparedOptions, current: NodeConfig): PubsubError | undefined {
  if (!prepared.ok) {
    // An access model we cannot configure can never equal the node's: the precondition is simply unmet.
    if (prepared.unsupportedAccessModel !== undefined) return errors.preconditionNotMet('pubsub#access_model');
    return prepared.error;
  }
  const field = cachedUnmet(prepared, current);
  // §7.1.5 rule 1: conflict + <precondition-not-met/>.
  return field === undefined ? undefined : errors.preconditionNotMet(`pubsub#${field}`);
}

// The node configuration's verdict on the last prepared options it was checked against.
const verdicts = new WeakMap<NodeConfig, { prepared: PreparedOptions; field: string | undefined }>();

/** unmetPrecondition, remembered per (frozen) node configuration for the last options checked: a repeat
 * of the same form against the same configuration costs one WeakMap lookup and allocates nothing. */
function cachedUnmet(prepared: PreparedOptions & { ok: true }, current: NodeConfig): string | undefined {
  if (!Object.isFrozen(current)) return unmetPrecondition(prepared.options, current);
  const v = verdicts.get(current);
  if (v && v.prepared === prepared) return v.field;
  const field = unmetPrecondition(prepared.options, current);
  verdicts.set(current, { prepared, field });
  return field;
}
