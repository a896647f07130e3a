// Publish-options as real clients send them (issue 20): the same form on every publish. The form is parsed
// once per distinct form (options-form-xml.ts, which hands out one frozen NodeConfig per form), and its
// comparison with a node's configuration is prepared once per such config here. A node's configuration
// object is replaced whenever the node is reconfigured, so a verdict can never go stale.
import type { NodeConfig } from '../../storage/types.ts';
import { preparePublishOptions, type PreparedOptions } from './preconditions.ts';

const preparedByForm = new WeakMap<NodeConfig, PreparedOptions>();

/** preparePublishOptions, once per shared (frozen, cached) options object. */
export function cachedPrepare(options: NodeConfig): PreparedOptions {
  if (!Object.isFrozen(options)) return preparePublishOptions(options);
  let p = preparedByForm.get(options);
  if (!p) {
    p = preparePublishOptions(options);
    preparedByForm.set(options, p);
  }
  return p;
}
