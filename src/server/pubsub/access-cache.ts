// Cached notification-access decisions and owner-roster relationships, per service and recipient. A
// notification fan-out asks about every contact of the owner, so answers are kept until the owner's roster
// (XEP-0163 §9.1), a node's configuration or its affiliations change. Every invalidation bumps the
// service's generation: an answer computed across one is returned but not stored, since it may be stale.
import type { Relationship } from './access.ts';

interface RecipientEntry {
  relationship?: Relationship;
  nodes: Map<string, boolean>;
}

interface ServiceEntry {
  generation: number;
  recipients: Map<string, RecipientEntry>;
}

export class AccessCache {
  private readonly services = new Map<string, ServiceEntry>();
  private decisions = 0;

  /** `capacity`: decisions kept before the cache is dropped wholesale. */
  constructor(private readonly capacity: number) {}

  /** The cached decision for `recipient` (bare JID) at `node`, or `compute()`'s, stored when still current. */
  async decision(service: string, recipient: string, node: string, compute: () => Promise<boolean>): Promise<boolean> {
    const svc = this.service(service);
    const generation = svc.generation;
    const hit = svc.recipients.get(recipient)?.nodes.get(node);
    if (hit !== undefined) return hit;
    const ok = await compute();
    if (this.current(service, svc, generation)) {
      if (this.decisions >= this.capacity) this.clear();
      else {
        this.recipient(svc, recipient).nodes.set(node, ok);
        this.decisions++;
      }
    }
    return ok;
  }

  /** The cached roster relationship of `recipient` (bare JID) with the service owner, or `load()`'s. */
  async relationship(service: string, recipient: string, load: () => Promise<Relationship>): Promise<Relationship> {
    const svc = this.service(service);
    const generation = svc.generation;
    const cached = svc.recipients.get(recipient)?.relationship;
    if (cached) return cached;
    const rel = await load();
    if (this.current(service, svc, generation)) this.recipient(svc, recipient).relationship = rel;
    return rel;
  }

  /** The cached relationship, if there is one: a fan-out's check without a promise (see engine.receivesEvent). */
  peekRelationship(service: string, recipient: string): Relationship | undefined {
    return this.services.get(service)?.recipients.get(recipient)?.relationship;
  }

  /** Forgets a service's answers, or only those about one recipient (bare JID). */
  invalidate(service: string, recipient?: string): void {
    const svc = this.services.get(service);
    if (!svc) return;
    svc.generation++;
    if (recipient === undefined) {
      for (const e of svc.recipients.values()) this.decisions -= e.nodes.size;
      this.services.delete(service);
      return;
    }
    const e = svc.recipients.get(recipient);
    if (e) {
      this.decisions -= e.nodes.size;
      svc.recipients.delete(recipient);
    }
  }

  /** Forgets the decisions about one node (created, deleted, reconfigured, affiliations changed). */
  invalidateNode(service: string, node: string): void {
    const svc = this.services.get(service);
    if (!svc) return;
    svc.generation++;
    for (const e of svc.recipients.values()) if (e.nodes.delete(node)) this.decisions--;
  }

  private current(service: string, svc: ServiceEntry, generation: number): boolean {
    return this.services.get(service) === svc && svc.generation === generation;
  }

  private service(service: string): ServiceEntry {
    let svc = this.services.get(service);
    if (!svc) this.services.set(service, (svc = { generation: 0, recipients: new Map() }));
    return svc;
  }

  private recipient(svc: ServiceEntry, recipient: string): RecipientEntry {
    let e = svc.recipients.get(recipient);
    if (!e) svc.recipients.set(recipient, (e = { nodes: new Map() }));
    return e;
  }

  /** Forgets everything (a cluster node that may have missed invalidations). */
  clear(): void {
    for (const svc of this.services.values()) svc.generation++;
    this.services.clear();
    this.decisions = 0;
  }
}
