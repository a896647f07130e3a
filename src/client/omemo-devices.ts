// Follows contacts' OMEMO device lists (legacy and 0.8+) through PEP notifications and reports what changed
// against the lists already known: a new device on a contact's account is what a user must notice, since
// whoever controls it can read what is encrypted to that account from then on. The known lists are kept by
// the caller (across runs), so a device added while nobody watched is still reported as new.
import { EventEmitter } from 'node:events';
import { NS_PUBSUB_EVENT } from '../protocol/xep0060.ts';
import { bareOf } from '../jid/parts.ts';
import { omemoDeviceListNode, parseOmemoDeviceList, type OmemoVersion } from '../keys/index.ts';
import type { Element } from '../xml/index.ts';
import type { XmppClient } from './client.ts';

export interface OmemoDeviceChange {
  jid: string;
  version: OmemoVersion;
  /** The whole list now. */
  devices: number[];
  added: number[];
  removed: number[];
  /** No list of this contact was known before: everything is in `added`. */
  firstSeen: boolean;
}

/** Where the known device lists live: key = `${version} ${bareJid}`. */
export interface KnownDeviceLists {
  get(key: string): number[] | undefined;
  set(key: string, devices: number[]): void;
}

const NODES: ReadonlyMap<string, OmemoVersion> = new Map([
  [omemoDeviceListNode('legacy'), 'legacy'],
  [omemoDeviceListNode('omemo2'), 'omemo2'],
]);

export class OmemoDeviceWatcher extends EventEmitter<{ change: [OmemoDeviceChange] }> {
  constructor(private readonly client: XmppClient, private readonly known: KnownDeviceLists) {
    super();
    // XEP-0163 §4.3.3: the +notify interests make the service push the lists (and send the last one when our
    // presence reaches the contact's server).
    client.setFeatures([...NODES.keys()].map((n) => `${n}+notify`));
    client.on('message', (m) => this.onMessage(m));
  }

  private onMessage(m: Element): void {
    const items = m.getChild('event', NS_PUBSUB_EVENT)?.getChild('items', NS_PUBSUB_EVENT);
    const version = items ? NODES.get(items.attrs.node ?? '') : undefined;
    const payload = items?.getChild('item', NS_PUBSUB_EVENT)?.firstElement();
    if (!version || !payload || !m.attrs.from) return;
    let devices: number[];
    try {
      devices = parseOmemoDeviceList(payload).devices.map((d) => d.id);
    } catch {
      return;
    }
    const jid = bareOf(m.attrs.from);
    const key = `${version} ${jid}`;
    const before = this.known.get(key);
    const added = devices.filter((d) => !before?.includes(d));
    const removed = (before ?? []).filter((d) => !devices.includes(d));
    this.known.set(key, devices);
    if (before && added.length === 0 && removed.length === 0) return;
    this.emit('change', { jid, version, devices, added, removed, firstSeen: before === undefined });
  }
}
