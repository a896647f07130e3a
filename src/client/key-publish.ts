// Publishing our keys, revocations and attestations to our PEP nodes (XEP-0189 §6) with the XEP-0222 options.
import type { Element } from '../xml/index.ts';
import { parseJid } from '../jid/index.ts';
import { ATTEST_NS, PUBKEY_NS, REVOKE_NS, CURRENT_ITEM_ID } from '../protocol/xep0189.ts';
import { buildPubkey, buildRevocation, buildAttestation, decodePrint, type Pubkey, type Revocation, type Attestation } from '../keys/index.ts';
import type { XmppClient } from './client.ts';
import { IqError, KeyOpError } from './errors.ts';
import { checkPepSupport } from './pep-support.ts';
import { publishItem, configureNode, setMembers, type NodeOptions } from './pubsub.ts';
import { publishProblem } from './pubsub-problems.ts';

export interface PublishOptions extends NodeOptions {
  /** Members allowed by the whitelist model (XEP-0060 §8.9 affiliations). */
  whitelist?: string[];
  /** On a precondition conflict, reconfigure the existing node to these options and publish again. */
  reconfigure?: boolean;
  /** Publish even when the service does not advertise publish-options (XEP-0222 §5 says not to). */
  force?: boolean;
}

/** One write to our own key nodes, reported before it is sent (what `key monitor` must not alert on). */
export interface OwnKeyWrite {
  node: string;
  itemId: string;
  payload: Element;
}

export class KeyPublisher {
  constructor(
    private readonly client: XmppClient,
    private readonly timeoutMs: number,
    /** Sees each write before it is sent, so a crash after the server's ack cannot leave it unrecorded. */
    private readonly beforePublish?: (w: OwnKeyWrite) => void | Promise<void>,
  ) {}

  /** Publishes our key as item 'current' of its pubkey node (XEP-0189 §6). */
  async publishKey(pk: Pubkey, options: PublishOptions): Promise<void> {
    await this.publish(PUBKEY_NS[pk.version], buildPubkey(pk), CURRENT_ITEM_ID, options);
  }

  /** Publishes a revocation; item id = the revoked key's print, so several revocations can coexist. */
  async publishRevocation(rev: Revocation, options: PublishOptions): Promise<string> {
    const id = printHex(rev.keyprint) ?? rev.keyprint.value;
    await this.publish(REVOKE_NS[rev.version], buildRevocation(rev), id, options);
    return id;
  }

  /** Publishes an attestation on our attest node; item id names the attested JID and key. */
  async publishAttestation(att: Attestation, subjectJid: string, options: PublishOptions): Promise<string> {
    const id = `${parseJid(subjectJid).bare} ${printHex(att.keyprint) ?? att.keyprint.value}`;
    await this.publish(ATTEST_NS[att.version], buildAttestation(att), id, options);
    return id;
  }

  private async publish(node: string, payload: Element, id: string, options: PublishOptions): Promise<void> {
    const support = await checkPepSupport(this.client, this.timeoutMs);
    if (support.problem && (!support.pep || !options.force)) throw KeyOpError.from(support.problem);
    await this.beforePublish?.({ node, itemId: id, payload });
    try {
      await publishItem(this.client, node, payload, id, options);
    } catch (e) {
      if (!(options.reconfigure && e instanceof IqError && e.appCondition === 'precondition-not-met')) throw publishError(e, node, options);
      try {
        await configureNode(this.client, node, options);
        await publishItem(this.client, node, payload, id, options);
      } catch (e2) {
        throw publishError(e2, node, options);
      }
    }
    if (options.accessModel === 'whitelist' && options.whitelist?.length) {
      try {
        await setMembers(this.client, node, options.whitelist.map((j) => parseJid(j).bare));
      } catch (e) {
        throw new KeyOpError('whitelist-not-set', `published, but the whitelist could not be set: ${publishProblem(e, { node })?.message ?? (e as Error).message}`, e);
      }
    }
  }
}

function publishError(e: unknown, node: string, options: PublishOptions): Error {
  const problem = publishProblem(e, { node, options });
  return problem ? KeyOpError.from(problem, e) : (e as Error);
}

function printHex(fp: { algo: Parameters<typeof decodePrint>[0]['algo']; value: string }): string | undefined {
  return decodePrint(fp)?.toString('hex');
}
