// XEP-0189 §7 and §8: keys exchanged with a contact's client directly, without PEP. We answer <pubkey/>
// requests through an access policy, ask a full JID for its key, and send payloads in messages.
import { x, type Element } from '../xml/index.ts';
import { parseJid, tryParseJid, type Jid } from '../jid/index.ts';
import { StanzaError } from '../protocol/rfc6120.ts';
import { PUBKEY_NS, type PayloadVersion } from '../protocol/xep0189.ts';
import { buildPubkey, pubkeyVersionOf, type Pubkey } from '../keys/index.ts';
import type { XmppClient } from './client.ts';
import { IqError, KeyOpError } from './errors.ts';
import { versionsFrom } from './key-features.ts';
import type { KeyEvent } from './key-events.ts';
import type { KeyIngest } from './key-ingest.ts';

/** Who may fetch our key with a direct IQ (XEP-0189 §7). Denied requests get service-unavailable. */
export type DirectAccessPolicy = (requester: Jid) => boolean | Promise<boolean>;

export class DirectKeys {
  constructor(
    private readonly client: XmppClient,
    private readonly ingest: KeyIngest,
    private readonly version: PayloadVersion,
    private readonly timeoutMs: number,
    private readonly ownKey: (() => Pubkey | undefined) | undefined,
    private readonly access: DirectAccessPolicy | undefined,
  ) {
    for (const v of [1, 2] as const) client.handleIq('get', 'pubkey', PUBKEY_NS[v], (iq) => this.answer(iq));
  }

  private async answer(iq: Element): Promise<Element> {
    const requester = tryParseJid(iq.attrs.from);
    // XEP-0189 §7 / RFC 6120 §8.3.3.19: a refusal must not reveal that we are here, so service-unavailable.
    if (!requester || !this.access || !(await this.access(requester))) throw new StanzaError('service-unavailable');
    const pk = this.ownKey?.();
    if (!pk) throw new StanzaError('item-not-found', 'no key available');
    return buildPubkey(pk);
  }

  /** Asks one full JID for its key and records it; in our payload version first, then the other one. */
  async request(fullJid: string): Promise<KeyEvent> {
    const to = parseJid(fullJid);
    let lastErr: unknown;
    for (const v of versionsFrom(this.version)) {
      try {
        const r = await this.client.iq(x('iq', { type: 'get', to: to.full }, x('pubkey', { xmlns: PUBKEY_NS[v] })), this.timeoutMs);
        const el = r.elements.find((c) => c.is('pubkey') && pubkeyVersionOf(c.ns) !== undefined);
        if (!el) throw new KeyOpError('no-key', `${to.full} answered without a key`);
        return await this.ingest.acceptKey(to.bare, el, 'direct');
      } catch (e) {
        lastErr = e;
        if (!(e instanceof IqError && (e.condition === 'feature-not-implemented' || e.condition === 'bad-request'))) break;
      }
    }
    throw lastErr;
  }

  /** XEP-0189 §8: a key, revocation or attestation in a message. */
  send(to: string, payload: Element, body?: string): void {
    this.client.send(x('message', { to: parseJid(to).full, type: 'normal' }, body ? x('body', null, body) : undefined, payload));
  }
}
