// Publication of map heads (docs/transparency.md "Publication of map heads"): each epoch's signed head goes to
// the map heads node of the domain's own pubsub service (item id = the epoch), next to the tree heads node, so
// clients follow the map like the log with plain XEP-0060. The node persists, so after a restart the last
// published epoch is read back from it: an epoch is published once, and one stored but not published (a
// crash between the two) is published at start.
import { x } from '../../../xml/index.ts';
import { parseJid } from '../../../jid/index.ts';
import { NS_PUBSUB } from '../../../protocol/xep0060.ts';
import type { PubsubService } from '../../pubsub/service.ts';
import { buildMapHead, KT_MAP_HEADS_NODE } from '../../../transparency/map-protocol.ts';
import type { SignedMapHead } from '../../../transparency/map-head.ts';
import type { Element } from '../../../xml/index.ts';

/** Heads kept on the node: open to anyone, as many as a node may hold. */
const MAP_HEADS_NODE_CONFIG = { access_model: 'open', max_items: 'max', persist_items: '1', notify_retract: '0' };

export class MapHeadsPublisher {
  /** The highest epoch on the node (0: none). */
  private published = 0;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly domain: string,
    private readonly sendIq: (iq: Element) => Promise<unknown>,
  ) {}

  /** Creates the node when missing and reads back the last epoch published on it. */
  static async open(domain: string, service: PubsubService, sendIq: (iq: Element) => Promise<unknown>): Promise<MapHeadsPublisher> {
    const owner = parseJid(domain);
    const p = new MapHeadsPublisher(domain, sendIq);
    if (!(await service.nodes(owner)).some((n) => n.node === KT_MAP_HEADS_NODE)) {
      await service.create(KT_MAP_HEADS_NODE, owner, MAP_HEADS_NODE_CONFIG);
    } else {
      const [last] = (await service.items(KT_MAP_HEADS_NODE, owner, { max: 1 })).items;
      const epoch = Number(last?.id);
      if (Number.isSafeInteger(epoch) && epoch > 0) p.published = epoch;
    }
    return p;
  }

  get lastPublished(): number {
    return this.published;
  }

  /** Publishes `head` unless an epoch as recent is on the node already; one publication at a time. */
  publish(head: SignedMapHead): Promise<void> {
    const run = this.queue.then(async () => {
      if (head.epoch <= this.published) return;
      // An IQ from the domain to itself, so subscribers are notified like for any publish.
      await this.sendIq(x('iq', { type: 'set', from: this.domain, to: this.domain, id: `kt-map-${head.epoch}-${head.time}` },
        x('pubsub', { xmlns: NS_PUBSUB }, x('publish', { node: KT_MAP_HEADS_NODE }, x('item', { id: String(head.epoch) }, buildMapHead(head))))));
      this.published = head.epoch;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
