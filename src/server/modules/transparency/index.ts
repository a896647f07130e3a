// Key transparency, Stage 1 (issue 14; docs/transparency.md): every key event on a served domain's PEP
// nodes goes into that domain's RFC 9162 log in the transaction of the PEP write (the pubsub engine's key
// log, storage's LogAppend); the domain signs tree heads with its Ed25519 log key every epoch and on
// demand, publishes them to the heads node of its own pubsub service (the bare domain JID, which anyone
// may subscribe to), and answers the urn:pepkeys:kt:0 IQs. Built by the server when [kt] enabled = true.
import { x } from '../../../xml/index.ts';
import { parseJid } from '../../../jid/index.ts';
import { NS_PUBSUB } from '../../../protocol/xep0060.ts';
import { defineModule, serviceKey } from '../../core/module-host.ts';
import { PepService } from '../pep/index.ts';
import { buildTreeHead, KT_HEADS_NODE, NS_KT, parseTreeHead } from '../../../transparency/protocol.ts';
import { logKeyId, rawEd25519PublicKey, verifyTreeHead } from '../../../transparency/tree-head.ts';
import { parseXml } from '../../../xml/index.ts';
import { DomainHeads } from './heads.ts';
import { answerKtIq } from './iq.ts';
import { keyLogFor } from './key-log.ts';
import { loadOrCreateLogKey } from './log-key.ts';
import { loadRotations } from './key-rotations.ts';
import { loadOrCreateMapKeys, type MapKeys } from './map-keys.ts';
import { answerVrfKeyIq } from './vrf-key-iq.ts';
import { DomainMapBuilder, headOf, type RemoteEpochs } from './map-builder.ts';
import { MAP_HOST_URL, remoteMapEpochs, type MapHostInit } from './map-host.ts';
import type { SignedMapHead } from '../../../transparency/map-head.ts';
import { answerMapIq, isMapIq } from './map-iq.ts';
import { VrfWorker } from './vrf-worker.ts';
import { MapHeadsPublisher } from './map-heads.ts';
import { buildKeyRotation, type KeyRotation } from '../../../transparency/key-rotation.ts';
import { equalHashes } from '../../../transparency/hash.ts';

export interface TransparencyOptions {
  /** Where the log keys live (DATA/kt/). */
  dataDir: string;
  /** A head is signed every this many milliseconds when the log has grown ([kt] epoch_ms). */
  epochMs: number;
  clock?: () => number;
}

/** Each served domain's heads, for embedding applications, benchmarks and tests. */
export const TransparencyService = serviceKey<ReadonlyMap<string, DomainHeads>>('transparency');

/** Heads kept on the node: the newest, as many as a node may hold. */
const HEADS_NODE_CONFIG = { access_model: 'open', max_items: 'max', persist_items: '1', notify_retract: '0' };

export function transparencyModule(opts: TransparencyOptions) {
  return defineModule({
    name: 'transparency',
    requires: ['pep'],
    provides: [TransparencyService],
    async setup(api) {
      const engine = api.use(PepService);
      const clock = opts.clock ?? Date.now;
      const heads = new Map<string, DomainHeads>();
      const rotations = new Map<string, KeyRotation[]>();
      const mapKeys = new Map<string, MapKeys>();
      const maps = new Map<string, DomainMapBuilder>();
      const mapHeads = new Map<string, MapHeadsPublisher>();
      // Labels with their VRF proofs for lookups, and the map builders' work where the storage hosts none
      // (map-host.ts), in one VRF process started on first use.
      const vrf = new VrfWorker();

      // The map builders beside the log, one hosted module for every domain, started at the first update.
      const hostedDomains: MapHostInit['domains'] = [];
      let epochsOf: ((domain: string) => RemoteEpochs) | undefined;
      const remoteEpochs = (domain: string, init: MapHostInit['domains'][number]): RemoteEpochs => {
        hostedDomains.push(init);
        const started = () =>
          (epochsOf ??= remoteMapEpochs(api.storage.logHost!.host(MAP_HOST_URL, { domains: hostedDomains } satisfies MapHostInit), (d, epoch, labels) =>
            maps.get(d)?.epochStored(epoch, labels)))(domain);
        return { update: (...a) => started().update(...a), stop: () => (epochsOf ? started().stop() : Promise.resolve()) };
      };

      for (const domain of api.hosts) {
        const { key, created } = loadOrCreateLogKey(opts.dataDir, domain);
        const keyId = logKeyId(rawEd25519PublicKey(key));
        rotations.set(domain, loadRotations(opts.dataDir, domain));
        // Stage 2's VRF key and commitment secret, made beside the log key on first start (map-keys.ts).
        mapKeys.set(domain, loadOrCreateMapKeys(opts.dataDir, domain));
        api.logger.info({ domain, keyId, created }, created ? 'created a transparency log key' : 'loaded the transparency log key');
        const owner = parseJid(domain);
        const service = engine.service(owner);
        if (!(await service.nodes(owner)).some((n) => n.node === KT_HEADS_NODE)) {
          await service.create(KT_HEADS_NODE, owner, HEADS_NODE_CONFIG);
        }
        // Published as an IQ from the domain to itself, so subscribers are notified like for any publish.
        const publish = async (head: Parameters<typeof buildTreeHead>[0]) => {
          const iq = x('iq', { type: 'set', from: domain, to: domain, id: `kt-${head.size}-${head.time}` },
            x('pubsub', { xmlns: NS_PUBSUB }, x('publish', { node: KT_HEADS_NODE }, x('item', { id: String(head.size) }, buildTreeHead(head)))));
          await api.sendIq(iq);
        };
        const h = new DomainHeads(domain, key, api.storage.transparency, publish, clock);
        const [last] = (await service.items(KT_HEADS_NODE, owner, { max: 1 })).items;
        if (last?.payload) {
          try {
            const head = parseTreeHead(parseXml(last.payload));
            // A head signed by a key rotated away is not continued: the next head is signed by the current key.
            if (head.domain === domain && verifyTreeHead(head) && equalHashes(head.key, rawEd25519PublicKey(key))) h.restore(head);
          } catch (err) {
            api.logger.warn({ err, domain }, 'the last published tree head does not parse; starting from the log');
          }
        }
        heads.set(domain, h);
        // Stage 2: the verifiable map, where the storage keeps one (map-builder.ts).
        const keys = mapKeys.get(domain)!;
        if (api.storage.ktMap) {
          // Each new epoch's head goes to the map heads node (map-heads.ts); a failed publication is logged and
          // made good by the next epoch's (subscribers need the newest head, not every one).
          const publisher = await MapHeadsPublisher.open(domain, service, (iq) => api.sendIq(iq));
          mapHeads.set(domain, publisher);
          const onEpoch = (head: SignedMapHead) =>
            publisher.publish(head).catch((err) => api.logger.error({ err, domain, epoch: head.epoch }, 'publishing a map head failed'));
          const ktMap = api.storage.ktMap;
          // Where the storage runs work beside the log (SQLite), the epochs are built there (map-host.ts);
          // elsewhere here, with labels, commitments and each epoch's root on the VRF process (map-epoch-work.ts).
          const epochs = api.storage.logHost
            ? remoteEpochs(domain, { domain, logKey: key.export({ format: 'der', type: 'pkcs8' }), vrfSecret: keys.vrf.secretKey, commitSecret: keys.commitSecret })
            : vrf.mapThread(domain, keys.vrf.secretKey, keys.commitSecret, ktMap);
          maps.set(domain, new DomainMapBuilder(domain, key, api.storage.transparency, ktMap, epochs, clock, { onEpoch }));
        }
      }
      api.provide(TransparencyService, heads);
      engine.logKeyEvents(keyLogFor((d) => heads.has(d)));

      api.addFeature('host', NS_KT);
      api.handleIq('host', NS_KT, async ({ payload, to }) => {
        if (payload.local === 'key-rotations') return x('key-rotations', { xmlns: NS_KT }, rotations.get(to.domain)!.map(buildKeyRotation));
        if (payload.local === 'vrf-key') return answerVrfKeyIq(mapKeys.get(to.domain)!);
        const map = maps.get(to.domain);
        if (map && isMapIq(payload)) return answerMapIq(payload, map, api.storage.transparency, mapKeys.get(to.domain)!, vrf);
        const h = heads.get(to.domain)!;
        return answerKtIq(payload, h, api.storage.transparency);
      });

      // An epoch stored but not published before a stop (or a crash) is published at the first tick.
      let caughtUp = false;
      const catchUp = async () => {
        if (caughtUp) return;
        caughtUp = true;
        for (const [domain, m] of maps) {
          const latest = await m.latest();
          if (latest && latest.epoch > mapHeads.get(domain)!.lastPublished) await mapHeads.get(domain)!.publish(headOf(domain, latest));
        }
      };
      const tick = () => {
        catchUp().catch((err) => api.logger.error({ err }, 'publishing the latest map head failed'));
        for (const h of heads.values()) {
          h.issue()
            // The map follows the signed log, off the publish path (map-builder.ts queues one update at a time).
            .then((head) => maps.get(h.domain)?.update(head.size, head.root))
            .catch((err) => api.logger.error({ err, domain: h.domain }, 'signing a tree head or map head failed'));
        }
      };
      const timer = setInterval(tick, opts.epochMs);
      timer.unref();
      // The first head as soon as the server runs (a log that never grows still has one).
      const first = setTimeout(tick, 0);
      first.unref();
      api.onStop(async () => {
        clearInterval(timer);
        clearTimeout(first);
        engine.logKeyEvents(undefined);
        // Heads being signed finish before the storage closes.
        await Promise.all([...heads.values()].map((h) => h.settled()));
        await Promise.all([...maps.values()].map((m) => m.stop()));
        await vrf.close();
      });
    },
  });
}
