// The other keys a contact publishes over PEP besides XEP-0189 ones: OMEMO devices (legacy and 0.8+) and
// OpenPGP keys announced for OX (XEP-0373). Each comes with the fingerprint its owner's client shows, so the
// user can compare them, and with a problem in plain words when a node is missing, refused or malformed.
import { x } from '../xml/index.ts';
import { NS_PUBSUB } from '../protocol/xep0060.ts';
import {
  observedFromOmemoDevice, observedFromOxKey, type ObserveResult, type TrustStore,
  OX_METADATA_NODE, formatOmemoFingerprint, formatOpenPgpFingerprint, omemoBundleLocation, omemoDeviceListNode,
  oxKeyNode, parseOmemoBundle, parseOmemoDeviceList, parseOxPublicKeysList, readOxPublicKey, type OmemoVersion,
} from '../keys/index.ts';
import type { XmppClient } from './client.ts';
import type { KeyProblem } from './errors.ts';
import { getItems, type PubsubItem } from './pubsub.ts';
import { retrieveProblem } from './pubsub-problems.ts';

export interface OmemoDeviceKey {
  version: OmemoVersion;
  deviceId: number;
  label?: string;
  /** 64 hex digits in groups of 8, as profanity and Conversations print it; absent when the bundle is not readable. */
  fingerprint?: string;
  preKeys?: number;
  problem?: KeyProblem;
}

export interface OxPublishedKey {
  /** 40 upper-case hex digits. */
  fingerprint: string;
  /** Grouped as gpg prints it. */
  display: string;
  announced: string;
  userIds?: string[];
  created?: Date;
  problem?: KeyProblem;
}

export interface PublishedKeys {
  omemo: OmemoDeviceKey[];
  ox: OxPublishedKey[];
  /** Why a whole kind could not be read (no device list, access refused …), by node. */
  problems: { node: string; problem: KeyProblem }[];
}

/** Reads a contact's OMEMO devices of both generations and their OX keys. */
export async function fetchPublishedKeys(client: XmppClient, jid: string, timeoutMs?: number): Promise<PublishedKeys> {
  const out: PublishedKeys = { omemo: [], ox: [], problems: [] };
  const read = async (node: string, ids?: string[]): Promise<PubsubItem[] | undefined> => {
    try {
      return ids ? await getItemsById(client, jid, node, ids, timeoutMs) : await getItems(client, jid, node, timeoutMs);
    } catch (err) {
      out.problems.push({ node, problem: retrieveProblem(err, jid, node) });
      return undefined;
    }
  };

  for (const version of ['legacy', 'omemo2'] as const) {
    const listNode = omemoDeviceListNode(version);
    const list = (await read(listNode))?.[0]?.payload;
    if (!list) continue;
    let devices;
    try {
      devices = parseOmemoDeviceList(list).devices;
    } catch (err) {
      out.problems.push({ node: listNode, problem: { code: 'malformed-key', message: (err as Error).message } });
      continue;
    }
    for (const d of devices) {
      const entry: OmemoDeviceKey = { version, deviceId: d.id, ...(d.label ? { label: d.label } : {}) };
      const where = omemoBundleLocation(version, d.id);
      try {
        const items = where.itemId ? await getItemsById(client, jid, where.node, [where.itemId], timeoutMs) : await getItems(client, jid, where.node, timeoutMs);
        const payload = items[0]?.payload;
        if (!payload) entry.problem = { code: 'no-key', message: `device ${d.id} is listed but has published no bundle` };
        else {
          const b = parseOmemoBundle(payload);
          entry.fingerprint = formatOmemoFingerprint(b.identityKey);
          entry.preKeys = b.preKeys;
        }
      } catch (err) {
        entry.problem = err instanceof Error && err.name === 'KeyError' ? { code: 'malformed-key', message: err.message } : retrieveProblem(err, jid, where.node);
      }
      out.omemo.push(entry);
    }
  }

  const meta = (await read(OX_METADATA_NODE))?.[0]?.payload;
  if (meta) {
    for (const m of parseOxPublicKeysList(meta)) {
      const entry: OxPublishedKey = { fingerprint: m.fingerprint, display: formatOpenPgpFingerprint(m.fingerprint), announced: m.date };
      try {
        const payload = (await getItems(client, jid, oxKeyNode(m.fingerprint), timeoutMs))[0]?.payload;
        if (!payload) entry.problem = { code: 'no-key', message: `key ${m.fingerprint} is announced but its node is empty` };
        else {
          const key = await readOxPublicKey(payload, m.fingerprint);
          entry.userIds = key.key.getUserIDs();
          entry.created = key.created;
        }
      } catch (err) {
        entry.problem = err instanceof Error && err.name === 'KeyError' ? { code: 'malformed-key', message: err.message } : retrieveProblem(err, jid, oxKeyNode(m.fingerprint));
      }
      out.ox.push(entry);
    }
  }
  return out;
}

/** XEP-0060 §6.5.8: specific items by id (OMEMO 0.8+ keeps every device's bundle in one node). */
async function getItemsById(client: XmppClient, jid: string, node: string, ids: string[], timeoutMs?: number): Promise<PubsubItem[]> {
  const r = await client.iq(
    x('iq', { type: 'get', to: jid }, x('pubsub', { xmlns: NS_PUBSUB }, x('items', { node }, ...ids.map((id) => x('item', { id }))))),
    timeoutMs,
  );
  const items = r.getChild('pubsub', NS_PUBSUB)?.getChild('items', NS_PUBSUB)?.getChildren('item', NS_PUBSUB) ?? [];
  return items.map((i) => ({ id: i.attrs.id, payload: i.firstElement() }));
}

/** One published key as the trust store saw it. */
export interface PublishedKeyObservation {
  kind: 'omemo' | 'ox';
  /** The OMEMO device id, for kind 'omemo'. */
  deviceId?: number;
  result: ObserveResult;
}

/**
 * Records the readable OMEMO identity keys and OX keys in the trust store, so `key trust`/`verify` work on them
 * and a device whose identity key differs from the one seen before is reported as a change. Unreadable entries
 * (no bundle, fingerprint mismatch) are not recorded: there is nothing checked to trust.
 */
export async function observePublishedKeys(trust: TrustStore, jid: string, published: PublishedKeys): Promise<PublishedKeyObservation[]> {
  const out: PublishedKeyObservation[] = [];
  for (const d of published.omemo) {
    if (!d.fingerprint) continue;
    const key = Buffer.from(d.fingerprint.replaceAll(' ', ''), 'hex');
    out.push({ kind: 'omemo', deviceId: d.deviceId, result: await trust.observe(jid, observedFromOmemoDevice(d.version, d.deviceId, key)) });
  }
  for (const k of published.ox) {
    if (k.problem) continue;
    out.push({ kind: 'ox', result: await trust.observe(jid, observedFromOxKey(k.fingerprint)) });
  }
  return out;
}
