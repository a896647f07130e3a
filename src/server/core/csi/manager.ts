// XEP-0352 Client State Indication on client streams: the <csi/> feature and the <active/>/<inactive/>
// nonzas. In the core beside stream management, for the same reason: it acts on the session's stanza
// output (a layer) and on top-level elements, neither of which modules see.
import { x, type Element } from '../../../xml/index.ts';
import { NS_CSI } from '../../../protocol/xep0352.ts';
import { createSessionKey } from '../../../cluster/index.ts';
import type { C2sSession } from '../c2s-session.ts';
import type { OutputBudget } from '../limits/output-budget.ts';
import type { Outbound } from '../stream-management/unacked-queue.ts';
import { ClientState } from './client-state.ts';

const CSI = createSessionKey<ClientState>('core/csi');

export interface CsiOptions {
  enabled: boolean;
  maxHeld: number;
  maxHeldChars: number;
}

export class ClientStateIndication {
  constructor(private readonly options: () => CsiOptions, private readonly outputBudget: OutputBudget) {}

  feature(): Element | undefined {
    return this.options().enabled ? x('csi', { xmlns: NS_CSI }) : undefined;
  }

  /** <active/> and <inactive/>: no answer (§4.2); what they change happens before the next element is read (§5.1). */
  element(session: C2sSession, el: Element): boolean {
    if (el.ns !== NS_CSI || (el.local !== 'active' && el.local !== 'inactive')) return false;
    const o = this.options();
    // Before binding there is no stanza output to manage; the indication is ignored.
    if (!o.enabled || !session.isBound) return o.enabled;
    let cs = session.get(CSI);
    if (!cs) {
      if (el.local === 'active') return true;
      const created = new ClientState({ passOn: (d) => session.passOn(created, d), budget: (c) => this.outputBudget.hold(c, c.chars) }, o.maxHeld, o.maxHeldChars);
      session.set(CSI, (cs = created));
      session.addLayer(cs);
    }
    cs.setActive(el.local === 'active');
    return true;
  }

  /** XEP-0352 §5.2 (1.0.0): a resumed stream starts active again. */
  resumed(session: C2sSession): void {
    session.get(CSI)?.setActive(true);
  }

  /** The session ended: what was held, never sent. */
  ended(session: C2sSession): Outbound[] {
    const cs = session.get(CSI);
    if (!cs) return [];
    this.outputBudget.release(cs);
    return cs.drain();
  }
}
