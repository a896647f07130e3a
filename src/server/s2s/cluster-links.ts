// Outbound federation in a cluster: one node holds the link for each (local domain, remote domain) pair and
// the others hand it their stanzas over the bus, so a remote server sees one stream from us, not one per
// node. The holder is chosen by rendezvous hashing over the nodes alive (every node computes the same one
// from the same members, with no election); when it is gone (its lease ran out, or nobody answers on its
// subject) the pair's next node in that order takes over. Dialback verifications (db:verify) a node needs
// for a remote server's inbound stream also travel over the holder's link.
import { createHash } from 'node:crypto';
import { parseXml, type Element } from '../../xml/index.ts';
import { StanzaError } from '../../protocol/rfc6120.ts';
import { BusNoResponders, BusTimeout } from '../../cluster/bus.ts';
import { batches } from '../../cluster/batches.ts';
import type { VerifyOutcome } from './inbound-stream.ts';
import type { Logger } from '../core/logger.ts';

/**
 * The node holding the link `local` → `remote` among `nodes`: rendezvous hashing, so every node that sees the
 * same members picks the same one, and when it leaves only its links move (to the next in each pair's order).
 */
export function linkHolder(nodes: Iterable<string>, local: string, remote: string): string | undefined {
  let best: string | undefined;
  let bestScore = '';
  for (const n of nodes) {
    const score = createHash('sha256').update(`${n}\0${local}\0${remote}`).digest('hex');
    if (best === undefined || score > bestScore) [best, bestScore] = [n, score];
  }
  return best;
}

/** What the cluster gives (ClusterSessionDirectory). */
export interface ClusterNodes {
  readonly nodeId: string;
  /** This node's bus connection is up. */
  readonly connected: boolean;
  readonly options: { readonly leaseMs: number; readonly requestTimeoutMs: number };
  members(): string[];
  onMembers(listener: () => void): () => void;
  serve(name: string, handler: (data: string, reply: ((data: string) => void) | undefined) => void): void;
  ask(node: string, name: string, data: string, timeoutMs?: number): Promise<string>;
}

/** What the s2s service does for the links it holds (s2s-service.ts). */
export interface LinkHost {
  /** Routes `stanza` again: to this node's link, or to the holder as now computed. */
  send(stanza: Element, local: string, remote: string): void;
  /** Sends over this node's own link to `remote` (a holder serving another node; never forwarded again). */
  sendHere(stanza: Element, local: string, remote: string): boolean;
  verify(receiving: string, originating: string, streamId: string, key: string): Promise<VerifyOutcome>;
  /** undefined: this node is stopping and holds nothing any more. */
  verifyHere(receiving: string, originating: string, streamId: string, key: string): Promise<VerifyOutcome | undefined>;
  bounce(stanza: Element, error: StanzaError): void;
  /** Dialback verifications wait this long for the remote server; a forwarded one waits this plus the bus. */
  readonly connectTimeoutMs: number;
  /** A dialback key for a made-up stream: equal on two nodes exactly when their dialback secrets are. */
  readonly keyFingerprint: string;
}

type Forward = [local: string, remote: string, xml: string];

const SEND = 's2s-send';
const VERIFY = 's2s-verify';
const KEY = 's2s-key';

export class ClusterLinks {
  private readonly queues = new Map<string, Forward[]>();
  /** Nodes that did not answer on their s2s subject: passed over until they leave, or for one lease. */
  private readonly suspects = new Map<string, number>();
  private readonly holders = new Map<string, string>();
  /** Peers whose dialback secret was compared with ours. */
  private readonly checked = new Set<string>();

  constructor(private readonly nodes: ClusterNodes, private readonly host: LinkHost, private readonly logger: Logger) {
    nodes.serve(SEND, (d, reply) => this.onSend(d, reply));
    nodes.serve(VERIFY, (d, reply) => void this.onVerify(d, reply));
    nodes.serve(KEY, (_d, reply) => reply?.(host.keyFingerprint));
    nodes.onMembers(() => {
      const alive = new Set(nodes.members());
      for (const n of this.suspects.keys()) if (!alive.has(n)) this.suspects.delete(n);
      for (const n of this.checked) if (!alive.has(n)) this.checked.delete(n);
      for (const n of alive) if (n !== nodes.nodeId && !this.checked.has(n)) void this.checkKey(n);
      this.holders.clear();
    });
  }

  private warn(msg: string, fields: Record<string, unknown>): void {
    this.logger.warn(fields, msg);
  }

  /**
   * A remote server verifies our dialback key with whichever node its connection reaches: every node must
   * derive the same keys, i.e. share the sasl-secret file. A difference is an operator's error, said loudly.
   */
  private async checkKey(node: string): Promise<void> {
    this.checked.add(node);
    try {
      const same = (await this.nodes.ask(node, KEY, '')) === this.host.keyFingerprint;
      if (same) this.logger.debug({ node }, 'same dialback secret as this cluster node');
      else {
        this.logger.error({ node }, 'this cluster node and another have different dialback secrets (the sasl-secret file): remote servers will refuse the cluster\'s server-to-server streams; copy one sasl-secret to every node (docs/cluster.md)');
      }
    } catch {
      // Not answering (no federation there, or gone): nothing to compare.
    }
  }

  /**
   * The node holding `local` → `remote`, or undefined when it is this one. While this node is cut off from
   * the bus it holds every link itself: the remote server then sees one more stream, not lost stanzas.
   */
  holder(local: string, remote: string): string | undefined {
    if (!this.nodes.connected) return undefined;
    const now = Date.now();
    for (const [n, until] of this.suspects) {
      if (until <= now) {
        this.suspects.delete(n);
        this.holders.clear();
      }
    }
    const key = `${local} ${remote}`;
    let h = this.holders.get(key);
    if (h === undefined) {
      h = linkHolder(this.nodes.members().filter((n) => !this.suspects.has(n)), local, remote) ?? this.nodes.nodeId;
      this.holders.set(key, h);
    }
    return h === this.nodes.nodeId ? undefined : h;
  }

  private suspect(node: string): void {
    this.suspects.set(node, Date.now() + this.nodes.options.leaseMs);
    this.holders.clear();
  }

  // ------------------------------------------------------------------------------ stanzas
  /** Hands a stanza to the holder; what one turn of the event loop gives one holder goes as one bus message. */
  forward(node: string, stanza: Element, local: string, remote: string): void {
    let q = this.queues.get(node);
    if (!q) {
      this.queues.set(node, (q = []));
      setImmediate(() => {
        this.queues.delete(node);
        for (const chunk of batches(q!)) void this.sendBatch(node, chunk);
      });
    }
    q.push([local, remote, stanza.toString()]);
  }

  private async sendBatch(node: string, items: Forward[]): Promise<void> {
    let taken = false;
    let failure: unknown;
    try {
      taken = (JSON.parse(await this.nodes.ask(node, SEND, JSON.stringify({ items }))) as { ok: boolean }).ok;
    } catch (err) {
      failure = err;
    }
    if (!taken && (failure === undefined || failure instanceof BusNoResponders)) {
      // Gone (before its lease ran out) or stopping: the next node in each pair's order takes its links.
      this.suspect(node);
      this.warn('the node holding a server-to-server link does not take stanzas; passing it over', { node, stanzas: items.length });
      for (const [local, remote, xml] of items) this.host.send(parseXml(xml), local, remote);
      return;
    }
    if (taken) return;
    // Alive but not answering in time (overloaded, or the bus is failing): the sender is told, not left waiting.
    this.warn('the node holding a server-to-server link did not answer in time; bouncing', { node, stanzas: items.length, err: String(failure) });
    for (const [, remote, xml] of items) {
      this.host.bounce(parseXml(xml), new StanzaError('remote-server-timeout', `the cluster node holding the connection to ${remote} does not answer`, 'wait'));
    }
  }

  private onSend(d: string, reply: ((data: string) => void) | undefined): void {
    const { items } = JSON.parse(d) as { items: Forward[] };
    let ok = true;
    for (const [local, remote, xml] of items) ok = this.host.sendHere(parseXml(xml), local, remote) && ok;
    reply?.(JSON.stringify({ ok }));
  }

  // ------------------------------------------------------------------------------ dialback verification
  /** Asks the holder of `receiving` → `originating` to send our db:verify over its link (XEP-0220 §2.3). */
  async verify(node: string, receiving: string, originating: string, streamId: string, key: string): Promise<VerifyOutcome> {
    try {
      const answer = await this.nodes.ask(node, VERIFY, JSON.stringify({ receiving, originating, streamId, key }), this.host.connectTimeoutMs + this.nodes.options.requestTimeoutMs);
      const { outcome } = JSON.parse(answer) as { outcome: VerifyOutcome | null };
      if (outcome) return outcome;
    } catch (err) {
      if (err instanceof BusTimeout) return { error: 'remote-server-timeout' };
      if (!(err instanceof BusNoResponders)) return { error: 'remote-connection-failed' };
    }
    this.suspect(node);
    return this.host.verify(receiving, originating, streamId, key);
  }

  private async onVerify(d: string, reply: ((data: string) => void) | undefined): Promise<void> {
    const { receiving, originating, streamId, key } = JSON.parse(d) as { receiving: string; originating: string; streamId: string; key: string };
    const outcome = await this.host.verifyHere(receiving, originating, streamId, key).catch((): VerifyOutcome => ({ error: 'remote-connection-failed' }));
    reply?.(JSON.stringify({ outcome: outcome ?? null }));
  }
}
