// The verifiable map's epochs built in the key-log process (storage/log-host.ts), where the log's leaves and
// the map's store are: the builder (map-builder.ts) reads each epoch's leaves, has them labelled by its own
// VRF process (vrf-worker.ts, a child of the key-log process), stores the entries and signs the epoch's head
// with the domain's log key, all without the event loop. The event loop's builder only asks for updates
// (after each tree head) and serves proofs from the stored map. Before, every leaf of an epoch went from the
// key-log process to the event loop, to the VRF process, back, and into the key-log process again: ~5 µs of
// the event loop per key event, and the waiting its messages caused (docs/benchmarks.md).
import { createPrivateKey } from 'node:crypto';
import type { KtMapEpoch } from '../../../storage/kt-map.ts';
import type { LogHostChannel, StartHosted } from '../../../storage/log-host.ts';
import { DomainMapBuilder, type RemoteEpochs } from './map-builder.ts';
import { VrfWorker } from './vrf-worker.ts';

export interface MapHostInit {
  domains: {
    domain: string;
    /** The domain's log key (signs map heads), PKCS#8 DER: a KeyObject is not cloned across processes. */
    logKey: Uint8Array;
    vrfSecret: Uint8Array;
    commitSecret: Uint8Array;
  }[];
}

export type MapHostCall =
  | { type: 'update'; domain: string; logSize: number; logRoot?: Uint8Array; time: number }
  | { type: 'stop'; domain: string };

/** Posted when an epoch is stored: its labels packed, 32 bytes each, in label order. */
export interface MapHostEpoch {
  type: 'epoch';
  domain: string;
  epoch: KtMapEpoch;
  labels: Uint8Array;
}

const LABEL = 32;

export const startHosted: StartHosted = (ctx) => {
  const { domains } = ctx.init as MapHostInit;
  const vrf = new VrfWorker();
  const builders = new Map<string, { builder: DomainMapBuilder; now: number; stopped: boolean }>();
  for (const d of domains) {
    const key = createPrivateKey({ key: Buffer.from(d.logKey), format: 'der', type: 'pkcs8' });
    // Heads carry the event loop's time of the update that made them (its clock is the one tests set).
    const state = { builder: undefined as unknown as DomainMapBuilder, now: 0, stopped: false };
    state.builder = new DomainMapBuilder(d.domain, key, ctx.log, ctx.map, vrf.mapThread(d.domain, d.vrfSecret, d.commitSecret, ctx.map), () => state.now, {
      onStored: (epoch, labels) => {
        const packed = new Uint8Array(labels.length * LABEL);
        labels.forEach((l, i) => packed.set(l, i * LABEL));
        ctx.post({ type: 'epoch', domain: d.domain, epoch, labels: packed } satisfies MapHostEpoch);
      },
    });
    builders.set(d.domain, state);
  }
  const closeVrf = async () => {
    if ([...builders.values()].every((b) => b.stopped)) await vrf.close();
  };
  ctx.onCall(async (message) => {
    const m = message as MapHostCall;
    const b = builders.get(m.domain);
    if (!b) throw new Error(`no map is built here for ${m.domain}`);
    if (m.type === 'stop') {
      b.stopped = true;
      await b.builder.stop();
      await closeVrf();
      return;
    }
    b.now = m.time;
    await b.builder.update(m.logSize, m.logRoot);
  });
  ctx.onClose(async () => {
    for (const b of builders.values()) b.stopped = true;
    await Promise.all([...builders.values()].map((b) => b.builder.stop()));
    await vrf.close();
  });
};

/** The event loop's side: each domain's RemoteEpochs over one hosted module, and the epochs it reports. */
export function remoteMapEpochs(channel: LogHostChannel, onEpoch: (domain: string, epoch: KtMapEpoch, labels: Uint8Array[]) => void): (domain: string) => RemoteEpochs {
  channel.onMessage((message) => {
    const m = message as MapHostEpoch;
    if (m.type !== 'epoch') return;
    const labels: Uint8Array[] = [];
    for (let o = 0; o < m.labels.length; o += LABEL) labels.push(m.labels.subarray(o, o + LABEL));
    onEpoch(m.domain, m.epoch, labels);
  });
  return (domain) => ({
    update: (logSize, logRoot, time) => channel.call({ type: 'update', domain, logSize, logRoot, time } satisfies MapHostCall),
    stop: () => channel.call({ type: 'stop', domain } satisfies MapHostCall),
  });
}

/** The file the key-log process imports: this one, as source or as the compiled build. */
export const MAP_HOST_URL = import.meta.url;
