// RFC 6121 §8 delivery rules: where a stanza goes given its 'to', for local accounts on any served domain.
// Modules get the first word through hooks (presence subscriptions, offline storage ...); what no module
// consumes gets the default handling here.
import type { Element } from '../../xml/index.ts';
import { Jid, tryParseJid } from '../../jid/index.ts';
import { StanzaError, errorReply, iqResult } from '../../protocol/rfc6120.ts';
import { messageType } from '../../protocol/rfc6121.ts';
import type { SessionDirectory } from '../../cluster/index.ts';
import type { HookBus } from './hooks.ts';
import type { ServerEvents } from './events.ts';
import type { IqHandlers, IqScope } from './iq-handlers.ts';
import type { IqCorrelator } from '../../protocol/iq-correlator.ts';
import type { Logger } from './logger.ts';
import { messageRecipients } from './message-recipients.ts';
import { NOT_PIPELINED, type AddressedContext, type StanzaContext } from './stanza-context.ts';
import { noRemoteRouting, type RemoteRouting } from './remote-routing.ts';

export interface StanzaRouterDeps {
  hooks: HookBus<ServerEvents>;
  sessions: SessionDirectory;
  iqHandlers: IqHandlers;
  /** The server's own IQs, which results and errors addressed to a domain or account may answer. */
  iqs: IqCorrelator;
  isLocalDomain(domain: string): boolean;
  accountExists(jid: Jid): Promise<boolean>;
  logger: Logger;
}

export class StanzaRouter {
  /** Where stanzas for other domains go; federation (src/server/s2s) replaces the default bounce. */
  remote: RemoteRouting = noRemoteRouting((stanza, error) => void this.bounce(stanza, error));

  constructor(private readonly d: StanzaRouterDeps) {}

  /**
   * Whether a client's stanza may start before its earlier stanzas have completed: an IQ get/set to an
   * account (its own, when 'to' is absent) whose handler declared such requests pipelined.
   */
  isPipelined(stanza: Element, to: Jid | undefined): boolean {
    const type = stanza.attrs.type;
    const payload = stanza.elements[0];
    if (stanza.name !== 'iq' || (type !== 'get' && type !== 'set') || !payload) return false;
    if (!this.d.iqHandlers.isPipelined('account', payload, type)) return false;
    return to === undefined || (!!to.local && to.isBare() && this.d.isLocalDomain(to.domain));
  }

  /** A stanza from a bound local client: its session built the context ('from' stamped, 'to' parsed). */
  async fromClient(ctx: StanzaContext): Promise<void> {
    const kind = ctx.stanza.name as 'iq' | 'message' | 'presence';
    if (await this.d.hooks.fire(`outgoing/${kind}`, ctx)) return;
    if (!ctx.to) {
      // RFC 6120 §10.3: no 'to' means the account itself; presence broadcast is the presence module's job.
      if (kind === 'presence') return;
      ctx.to = ctx.from.toBare();
    }
    await this.deliver(ctx as AddressedContext);
  }

  /** Routes a stanza the server originates or forwards; 'from' must be set. */
  async route(stanza: Element): Promise<void> {
    const from = tryParseJid(stanza.attrs.from);
    const to = tryParseJid(stanza.attrs.to);
    if (!from || !to) {
      this.d.logger.warn({ stanza: stanza.name }, 'dropping a server stanza without valid from/to');
      return;
    }
    await this.deliver({ stanza, from, to, proceed: NOT_PIPELINED });
  }

  private async deliver(ev: AddressedContext): Promise<void> {
    const { stanza, to } = ev;
    if (!this.d.isLocalDomain(to.domain)) return this.remote.send(stanza, ev.from, to);
    if (!to.local) return this.toHost(ev);
    switch (stanza.name) {
      case 'iq':
        return this.iqToAccount(ev);
      case 'message':
        return this.messageToAccount(ev);
      default:
        return this.presenceToAccount(ev);
    }
  }

  private async toHost(ev: AddressedContext): Promise<void> {
    const { stanza } = ev;
    if (stanza.name === 'iq') {
      const type = stanza.attrs.type;
      if (type === 'result' || type === 'error') {
        this.d.iqs.settle(stanza);
        return;
      }
      return this.handleIq('host', ev);
    }
    await this.d.hooks.fire(stanza.name === 'message' ? 'host/message' : 'host/presence', ev);
  }

  private async iqToAccount(ev: AddressedContext): Promise<void> {
    const { stanza, to } = ev;
    const type = stanza.attrs.type;
    if (!to.isBare()) {
      const s = this.d.sessions.get(to.full);
      if (s) return s.deliver(stanza);
      // RFC 6121 §8.5.3.1: no such resource — get/set are answered with service-unavailable, others dropped.
      return this.bounce(stanza, new StanzaError('service-unavailable'));
    }
    if (type === 'result' || type === 'error') {
      if (!this.d.iqs.settle(stanza)) this.d.logger.debug({ to: to.full }, 'dropping an unsolicited IQ response');
      return;
    }
    if (!(await this.d.accountExists(to))) return this.bounce(stanza, new StanzaError('service-unavailable'), ev);
    return this.handleIq('account', ev);
  }

  private async handleIq(scope: IqScope, ev: AddressedContext): Promise<void> {
    const { stanza } = ev;
    const payload = stanza.elements[0];
    const handler = payload ? this.d.iqHandlers.get(scope, payload.ns) : undefined;
    if (!payload || !handler) {
      // RFC 6120 §8.4: an IQ nobody here understands gets service-unavailable.
      return this.bounce(stanza, new StanzaError('service-unavailable'), ev);
    }
    let reply: Element;
    try {
      const result = await handler({ ...ev, payload, type: stanza.attrs.type as 'get' | 'set' });
      reply = iqResult(stanza, result ?? undefined);
    } catch (e) {
      if (!(e instanceof StanzaError)) {
        this.d.logger.error({ err: e, ns: payload.ns }, 'IQ handler failed');
      }
      reply = errorReply(stanza, e instanceof StanzaError ? e : new StanzaError('internal-server-error'));
    }
    // The answer comes from the address that was asked (the account, when the client left 'to' out).
    if (stanza.attrs.to === undefined) delete reply.attrs.from;
    await this.toSender(ev, reply);
  }

  private async messageToAccount(ev: AddressedContext): Promise<void> {
    const { stanza, to } = ev;
    const type = messageType(stanza.attrs.type);
    if (!to.isBare()) {
      const s = this.d.sessions.get(to.full);
      if (s) {
        // Inbound processing (archiving, carbons, blocking) applies to a message for one resource too.
        if (await this.d.hooks.fire('incoming/message', ev)) return;
        return s.deliver(stanza);
      }
      // RFC 6121 §8.5.3.2.1: to an unavailable resource, normal/chat go to the bare JID, the rest is dropped
      // (groupchat gets an error).
      if (type === 'groupchat') return this.bounce(stanza, new StanzaError('service-unavailable'));
      if (type !== 'normal' && type !== 'chat') return;
    }
    if (!(await this.d.accountExists(to))) {
      if (type !== 'error' && type !== 'headline') this.bounce(stanza, new StanzaError('service-unavailable'));
      return;
    }
    const bareEv = { ...ev, to: to.toBare() };
    if (await this.d.hooks.fire('incoming/message', bareEv)) return;
    const recipients = messageRecipients(this.d.sessions.resources(to.bare), type);
    if (recipients.length > 0) {
      const data = stanza.toString();
      for (const s of recipients) s.deliver(data);
      return;
    }
    // RFC 6121 §8.5.2.2: no available resource.
    if (type === 'normal' || type === 'chat') {
      if (await this.d.hooks.fire('message/offline', bareEv)) return;
      return this.bounce(stanza, new StanzaError('service-unavailable'));
    }
    if (type === 'groupchat') return this.bounce(stanza, new StanzaError('service-unavailable'));
  }

  private async presenceToAccount(ev: AddressedContext): Promise<void> {
    if (await this.d.hooks.fire('incoming/presence', ev)) return;
    const { stanza, to } = ev;
    if (!to.isBare()) {
      this.d.sessions.get(to.full)?.deliver(stanza);
      return;
    }
    const data = stanza.toString();
    for (const s of this.d.sessions.resources(to.bare)) if (s.available) s.deliver(data);
  }

  /** Answers a stanza with an error, unless it is itself an error or an IQ response (RFC 6120 §8.3.1). */
  bounce(stanza: Element, error: StanzaError, ev?: StanzaContext): Promise<void> | void {
    const type = stanza.attrs.type;
    if (type === 'error' || (stanza.name === 'iq' && type === 'result')) return;
    const from = tryParseJid(stanza.attrs.from);
    if (!from) return;
    const reply = errorReply(stanza, error);
    return this.toSender({ from, origin: ev?.origin, previous: ev?.previous }, reply);
  }

  private async toSender(ev: Pick<StanzaContext, 'from' | 'origin' | 'previous'>, reply: Element): Promise<void> {
    // A pipelined stanza's reply waits for the replies to the sender's earlier stanzas.
    if (ev.previous) await ev.previous;
    // Replies to local clients go straight to their session; a remote sender's go back over federation.
    const target = ev.origin && !ev.origin.isClosed ? ev.origin : this.d.sessions.get(ev.from.full);
    if (target) target.deliver(reply);
    // The server asked one of its own domains (api.sendIq to a served domain): the answer is its own.
    else if (!ev.from.local && this.d.isLocalDomain(ev.from.domain)) this.d.iqs.settle(reply);
    else if (!this.d.isLocalDomain(ev.from.domain)) {
      const to = tryParseJid(reply.attrs.from);
      if (to) this.remote.send(reply, to, ev.from);
    }
  }
}
