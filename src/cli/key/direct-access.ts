// Direct key requests (XEP-0189 §7) answered by `key watch` get the answer PEP would give for the access model
// of the last publish. The decision itself is the server's own (`denied`, the XEP-0060 §4.1 capability table
// and §4.5 access models), so the two cannot disagree; this file only maps the CLI's publish settings and the
// roster onto its inputs.
import type { Jid } from '../../jid/index.ts';
import type { Affiliation } from '../../storage/types.ts';
import type { DirectAccessPolicy, RosterEntry } from '../../client/index.ts';
import { denied, needsRelationship, type Relationship } from '../../server/pubsub/access.ts';
import type { PublishSettings } from './home.ts';

/** `roster` is asked at each request that needs it (a presence or roster model): it must follow roster pushes. */
export function directAccessPolicy(me: Jid, publish: () => PublishSettings | undefined, roster: () => Promise<RosterEntry[]>): DirectAccessPolicy {
  return async (requester) => {
    const p = publish();
    if (!p) return false; // never published: nobody has been granted anything
    const config = { accessModel: p.access, rosterGroupsAllowed: p.groups ?? [] };
    // XEP-0163 §3.2: our own account owns the node; XEP-0060 §4.5: the whitelist is the member list.
    const affiliation: Affiliation = requester.bare === me.bare ? 'owner' : p.access === 'whitelist' && (p.allow ?? []).includes(requester.bare) ? 'member' : 'none';
    let relationship: Relationship | undefined;
    if (needsRelationship('retrieve', affiliation, config)) {
      const item = (await roster()).find((r) => r.jid === requester.bare);
      if (item) relationship = { subscription: item.subscription === 'remove' ? 'none' : item.subscription, groups: item.groups };
    }
    return denied('retrieve', { affiliation, relationship }, config) === undefined;
  };
}
