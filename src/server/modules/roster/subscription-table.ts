// RFC 6121 Appendix A as data: the subscription state of a (user, contact) pair and, for each presence
// subscription stanza the user sends (A.2, outbound) or receives (A.3, inbound), whether the stanza goes on
// and which state follows. The presence module only applies these cells; it decides nothing itself.
// Pre-approval (§3.4) is a flag beside the state, with its own cells below.
import type { RosterItem } from '../../../storage/types.ts';

/** RFC 6121 Appendix A.1, from the user's side. */
export type SubState =
  | 'None' | 'None + Pending Out' | 'None + Pending In' | 'None + Pending Out/In'
  | 'To' | 'To + Pending In' | 'From' | 'From + Pending Out' | 'Both';

export const SUB_STATES: readonly SubState[] = [
  'None', 'None + Pending Out', 'None + Pending In', 'None + Pending Out/In', 'To', 'To + Pending In', 'From', 'From + Pending Out', 'Both',
];

export type SubscriptionStanza = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';
export const SUBSCRIPTION_STANZAS: readonly SubscriptionStanza[] = ['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed'];

export interface Cell {
  /** Outbound: route the stanza to the contact. Inbound: deliver it to the user's available resources. */
  pass: boolean;
  /** The state that follows; undefined is the RFC's "no state change". */
  next?: SubState;
  /** A.3.1 "no *": the user's server answers the request itself with "subscribed". */
  autoReply?: 'subscribed';
}

type Table = Readonly<Record<SubState, Cell>>;
const keep = (pass: boolean): Cell => ({ pass });
const to = (next: SubState, pass = true): Cell => ({ pass, next });

/** A.2: the user sends the stanza to the contact ("ROUTE?"). */
export const OUTBOUND: Readonly<Record<SubscriptionStanza, Table>> = {
  // A.2.1
  subscribe: {
    'None': to('None + Pending Out'),
    'None + Pending Out': keep(true),
    'None + Pending In': to('None + Pending Out/In'),
    'None + Pending Out/In': keep(true),
    'To': keep(true),
    'To + Pending In': keep(true),
    'From': to('From + Pending Out'),
    'From + Pending Out': keep(true),
    'Both': keep(true),
  },
  // A.2.2
  unsubscribe: {
    'None': keep(true),
    'None + Pending Out': to('None'),
    'None + Pending In': keep(true),
    'None + Pending Out/In': to('None + Pending In'),
    'To': to('None'),
    'To + Pending In': to('None + Pending In'),
    'From': keep(true),
    'From + Pending Out': to('From'),
    'Both': to('From'),
  },
  // A.2.3 (the "no" rows without a pending request are pre-approvals, §3.4: see PRE_APPROVAL)
  subscribed: {
    'None': keep(false),
    'None + Pending Out': keep(false),
    'None + Pending In': to('From'),
    'None + Pending Out/In': to('From + Pending Out'),
    'To': keep(false),
    'To + Pending In': to('Both'),
    'From': keep(false),
    'From + Pending Out': keep(false),
    'Both': keep(false),
  },
  // A.2.4
  unsubscribed: {
    'None': keep(false),
    'None + Pending Out': keep(false),
    'None + Pending In': to('None'),
    'None + Pending Out/In': to('None + Pending Out'),
    'To': keep(false),
    'To + Pending In': to('To'),
    'From': to('None'),
    'From + Pending Out': to('None + Pending Out'),
    'Both': to('To'),
  },
};

const autoReply: Cell = { pass: false, autoReply: 'subscribed' };

/** A.3: the contact's stanza reaches the user ("DELIVER?"). */
export const INBOUND: Readonly<Record<SubscriptionStanza, Table>> = {
  // A.3.1
  subscribe: {
    'None': to('None + Pending In'),
    'None + Pending Out': to('None + Pending Out/In'),
    'None + Pending In': keep(false),
    'None + Pending Out/In': keep(false),
    'To': to('To + Pending In'),
    'To + Pending In': keep(false),
    'From': autoReply,
    'From + Pending Out': autoReply,
    'Both': autoReply,
  },
  // A.3.2
  unsubscribe: {
    'None': keep(false),
    'None + Pending Out': keep(false),
    'None + Pending In': to('None'),
    'None + Pending Out/In': to('None + Pending Out'),
    'To': keep(false),
    'To + Pending In': to('To'),
    'From': to('None'),
    'From + Pending Out': to('None + Pending Out'),
    'Both': to('To'),
  },
  // A.3.3
  subscribed: {
    'None': keep(false),
    'None + Pending Out': to('To'),
    'None + Pending In': keep(false),
    'None + Pending Out/In': to('To + Pending In'),
    'To': keep(false),
    'To + Pending In': keep(false),
    'From': keep(false),
    'From + Pending Out': to('Both'),
    'Both': keep(false),
  },
  // A.3.4
  unsubscribed: {
    'None': keep(false),
    'None + Pending Out': to('None'),
    'None + Pending In': keep(false),
    'None + Pending Out/In': to('None + Pending In'),
    'To': to('None'),
    'To + Pending In': to('None + Pending In'),
    'From': keep(false),
    'From + Pending Out': to('From'),
    'Both': to('From'),
  },
};

/**
 * §3.4 pre-approval, for the states without "from" and without a pending request (the only ones where the
 * flag means anything). `record`: an outbound "subscribed" there is remembered (approved='true'), not routed.
 * `cancel`: an outbound "unsubscribed" there forgets it. `accept`: an inbound "subscribe" meeting a
 * pre-approval is approved by the server: the state gains "from", the request is not delivered, and the
 * contact is answered "subscribed".
 */
export const PRE_APPROVAL = {
  states: ['None', 'None + Pending Out', 'To'] as readonly SubState[],
  accept: { 'None': 'From', 'None + Pending Out': 'From + Pending Out', 'To': 'Both' } as Readonly<Record<string, SubState>>,
};

export function canPreApprove(s: SubState): boolean {
  return PRE_APPROVAL.states.includes(s);
}

// ------------------------------------------------------------------------------ state ⇄ stored fields
/** The stored parts of a state: the roster item's subscription and ask, and the held inbound request. */
export interface StateFields {
  subscription: RosterItem['subscription'];
  pendingOut: boolean;
  pendingIn: boolean;
}

const FIELDS: Readonly<Record<SubState, StateFields>> = {
  'None': { subscription: 'none', pendingOut: false, pendingIn: false },
  'None + Pending Out': { subscription: 'none', pendingOut: true, pendingIn: false },
  'None + Pending In': { subscription: 'none', pendingOut: false, pendingIn: true },
  'None + Pending Out/In': { subscription: 'none', pendingOut: true, pendingIn: true },
  'To': { subscription: 'to', pendingOut: false, pendingIn: false },
  'To + Pending In': { subscription: 'to', pendingOut: false, pendingIn: true },
  'From': { subscription: 'from', pendingOut: false, pendingIn: false },
  'From + Pending Out': { subscription: 'from', pendingOut: true, pendingIn: false },
  'Both': { subscription: 'both', pendingOut: false, pendingIn: false },
};

export function fieldsOf(s: SubState): StateFields {
  return FIELDS[s];
}

/**
 * The state of a stored item and request. A pending half that the subscription already has (ask with "to",
 * a request with "from") is meaningless and ignored, as the RFC has no such state.
 */
export function stateOf(item: Pick<RosterItem, 'subscription' | 'ask'> | undefined, pendingIn: boolean): SubState {
  const sub = item?.subscription ?? 'none';
  const out = item?.ask === 'subscribe';
  switch (sub) {
    case 'both':
      return 'Both';
    case 'to':
      return pendingIn ? 'To + Pending In' : 'To';
    case 'from':
      return out ? 'From + Pending Out' : 'From';
    default:
      if (out && pendingIn) return 'None + Pending Out/In';
      return out ? 'None + Pending Out' : pendingIn ? 'None + Pending In' : 'None';
  }
}
