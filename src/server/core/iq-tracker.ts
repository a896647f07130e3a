// IQs the server itself sends (e.g. disco#info to a client for entity capabilities) and their answers.
import { randomBytes } from 'node:crypto';
import type { Element } from '../../xml/index.ts';
import { StanzaError } from '../../protocol/rfc6120.ts';

interface Pending {
  resolve(el: Element): void;
  reject(err: Error): void;
  to: string;
  timer: NodeJS.Timeout;
}

export class IqTracker {
  private readonly pending = new Map<string, Pending>();

  /** Gives the IQ a fresh id and waits for the matching result or error from its recipient. */
  track(iq: Element, timeoutMs: number): Promise<Element> {
    const id = `srv-${randomBytes(9).toString('base64url')}`;
    iq.attrs.id = id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new StanzaError('remote-server-timeout', 'no answer to the IQ'));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, to: iq.attrs.to ?? '', timer });
    });
  }

  /** Returns true when the stanza answered one of our IQs. Answers from anyone else are not accepted. */
  answer(stanza: Element): boolean {
    const id = stanza.attrs.id;
    const p = id ? this.pending.get(id) : undefined;
    if (!p || p.to !== stanza.attrs.from) return false;
    this.pending.delete(id!);
    clearTimeout(p.timer);
    if (stanza.attrs.type === 'result') p.resolve(stanza);
    else {
      const cond = stanza.getChild('error')?.elements[0]?.local ?? 'undefined-condition';
      p.reject(new StanzaError(cond as any, 'the entity answered with an error'));
    }
    return true;
  }

  cancelAll(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('server stopping'));
    }
    this.pending.clear();
  }
}
