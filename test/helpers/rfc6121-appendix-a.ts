// RFC 6121 Appendix A.2 and A.3, transcribed as the RFC prints them, and a model of one exchange between two
// accounts built only from these tables (and §3.4 pre-approval): the oracle of the data-driven tests. It
// shares no code with the server's table (src/server/modules/roster/subscription-table.ts), so a wrong cell
// there shows up as a disagreement here.

const TABLES = `
A.2.1 outbound subscribe
| "None"                  |  yes     |  "None + Pending Out"    |
| "None + Pending Out"    |  yes     |  no state change         |
| "None + Pending In"     |  yes     |  "None + Pending Out/In" |
| "None + Pending Out/In" |  yes     |  no state change         |
| "To"                    |  yes     |  no state change         |
| "To + Pending In"       |  yes     |  no state change         |
| "From"                  |  yes     |  "From + Pending Out"    |
| "From + Pending Out"    |  yes     |  no state change         |
| "Both"                  |  yes     |  no state change         |

A.2.2 outbound unsubscribe
| "None"                  |  yes     |  no state change         |
| "None + Pending Out"    |  yes     |  "None"                  |
| "None + Pending In"     |  yes     |  no state change         |
| "None + Pending Out/In" |  yes     |  "None + Pending In"     |
| "To"                    |  yes     |  "None"                  |
| "To + Pending In"       |  yes     |  "None + Pending In"     |
| "From"                  |  yes     |  no state change         |
| "From + Pending Out"    |  yes     |  "From"                  |
| "Both"                  |  yes     |  "From"                  |

A.2.3 outbound subscribed
| "None"                  |  no      |  no state change         |
| "None + Pending Out"    |  no      |  no state change         |
| "None + Pending In"     |  yes     |  "From"                  |
| "None + Pending Out/In" |  yes     |  "From + Pending Out"    |
| "To"                    |  no      |  no state change         |
| "To + Pending In"       |  yes     |  "Both"                  |
| "From"                  |  no      |  no state change         |
| "From + Pending Out"    |  no      |  no state change         |
| "Both"                  |  no      |  no state change         |

A.2.4 outbound unsubscribed
| "None"                  |  no      |  no state change         |
| "None + Pending Out"    |  no      |  no state change         |
| "None + Pending In"     |  yes     |  "None"                  |
| "None + Pending Out/In" |  yes     |  "None + Pending Out"    |
| "To"                    |  no      |  no state change         |
| "To + Pending In"       |  yes     |  "To"                    |
| "From"                  |  yes     |  "None"                  |
| "From + Pending Out"    |  yes     |  "None + Pending Out"    |
| "Both"                  |  yes     |  "To"                    |

A.3.1 inbound subscribe
| "None"                  |  yes     |  "None + Pending In"     |
| "None + Pending Out"    |  yes     |  "None + Pending Out/In" |
| "None + Pending In"     |  no      |  no state change         |
| "None + Pending Out/In" |  no      |  no state change         |
| "To"                    |  yes     |  "To + Pending In"       |
| "To + Pending In"       |  no      |  no state change         |
| "From"                  |  no *    |  no state change         |
| "From + Pending Out"    |  no *    |  no state change         |
| "Both"                  |  no *    |  no state change         |

A.3.2 inbound unsubscribe
| "None"                  |  no      |  no state change         |
| "None + Pending Out"    |  no      |  no state change         |
| "None + Pending In"     |  yes *   |  "None"                  |
| "None + Pending Out/In" |  yes *   |  "None + Pending Out"    |
| "To"                    |  no      |  no state change         |
| "To + Pending In"       |  yes *   |  "To"                    |
| "From"                  |  yes *   |  "None"                  |
| "From + Pending Out"    |  yes *   |  "None + Pending Out"    |
| "Both"                  |  yes *   |  "To"                    |

A.3.3 inbound subscribed
| "None"                  |  no      |  no state change         |
| "None + Pending Out"    |  yes     |  "To"                    |
| "None + Pending In"     |  no      |  no state change         |
| "None + Pending Out/In" |  yes     |  "To + Pending In"       |
| "To"                    |  no      |  no state change         |
| "To + Pending In"       |  no      |  no state change         |
| "From"                  |  no      |  no state change         |
| "From + Pending Out"    |  yes     |  "Both"                  |
| "Both"                  |  no      |  no state change         |

A.3.4 inbound unsubscribed
| "None"                  |  no      |  no state change         |
| "None + Pending Out"    |  yes     |  "None"                  |
| "None + Pending In"     |  no      |  no state change         |
| "None + Pending Out/In" |  yes     |  "None + Pending In"     |
| "To"                    |  yes     |  "None"                  |
| "To + Pending In"       |  yes     |  "None + Pending In"     |
| "From"                  |  no      |  no state change         |
| "From + Pending Out"    |  yes     |  "From"                  |
| "Both"                  |  yes     |  "From"                  |
`;

export type Kind = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';
export const KINDS: readonly Kind[] = ['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed'];

export interface RfcCell {
  pass: boolean;
  /** The "*" of A.3.1: the server answers the request with "subscribed". */
  star: boolean;
  next: string | undefined;
}

function parse(): Record<'outbound' | 'inbound', Record<Kind, Map<string, RfcCell>>> {
  const out = { outbound: {}, inbound: {} } as Record<'outbound' | 'inbound', Record<Kind, Map<string, RfcCell>>>;
  let current: Map<string, RfcCell> | undefined;
  for (const line of TABLES.split('\n')) {
    const head = /^A\.\d\.\d (outbound|inbound) (\w+)$/.exec(line.trim());
    if (head) {
      current = new Map();
      out[head[1] as 'outbound' | 'inbound'][head[2] as Kind] = current;
      continue;
    }
    const row = /^\|\s*"([^"]+)"\s*\|\s*(yes|no)\s*(\*)?\s*\|\s*(?:"([^"]+)"|no state change)\s*\|$/.exec(line.trim());
    if (row && current) current.set(row[1]!, { pass: row[2] === 'yes', star: row[3] === '*', next: row[4] });
  }
  return out;
}

export const RFC = parse();
export const STATES: readonly string[] = [...RFC.outbound.subscribe.keys()];

/** The same relationship seen from the other side. */
export const MIRROR: Readonly<Record<string, string>> = {
  'None': 'None',
  'None + Pending Out': 'None + Pending In',
  'None + Pending In': 'None + Pending Out',
  'None + Pending Out/In': 'None + Pending Out/In',
  'To': 'From',
  'To + Pending In': 'From + Pending Out',
  'From': 'To',
  'From + Pending Out': 'To + Pending In',
  'Both': 'Both',
};

/** §3.4: states where an approval given before the request is remembered. */
export const PRE_APPROVABLE = ['None', 'None + Pending Out', 'To'];
const PRE_ACCEPT: Record<string, string> = { 'None': 'From', 'None + Pending Out': 'From + Pending Out', 'To': 'Both' };

export interface Party {
  state: string;
  approved: boolean;
}

export interface Outcome {
  sender: Party;
  receiver: Party;
  /** The receiver's available resources were given the stanza. */
  delivered: boolean;
  /** The receiver's server answered "subscribed", and the sender's server delivered it (A.3.3). */
  answered: boolean;
}

/** One stanza sent by `sender` to `receiver`, both local accounts, as the tables and §3.4 describe it. */
export function exchange(kind: Kind, sender: Party, receiver: Party): Outcome {
  const out = RFC.outbound[kind].get(sender.state)!;
  const s: Party = { state: out.next ?? sender.state, approved: sender.approved };
  const r: Party = { ...receiver };
  if (PRE_APPROVABLE.includes(sender.state)) {
    if (kind === 'subscribed') s.approved = true;
    if (kind === 'unsubscribed') s.approved = false;
  }
  let delivered = false;
  let answered = false;
  if (out.pass) {
    const inCell = RFC.inbound[kind].get(receiver.state)!;
    if (kind === 'subscribe' && receiver.approved && PRE_APPROVABLE.includes(receiver.state)) {
      r.state = PRE_ACCEPT[receiver.state]!;
      r.approved = false;
      answered = true;
    } else {
      r.state = inCell.next ?? receiver.state;
      delivered = inCell.pass;
      answered = inCell.star && kind === 'subscribe';
    }
    if (answered) {
      const back = RFC.inbound.subscribed.get(s.state)!;
      s.state = back.next ?? s.state;
      answered = back.pass;
    }
  }
  if (!PRE_APPROVABLE.includes(s.state)) s.approved = false;
  if (!PRE_APPROVABLE.includes(r.state)) r.approved = false;
  return { sender: s, receiver: r, delivered, answered };
}

export const hasFromState = (s: string) => s.startsWith('From') || s === 'Both';
export const hasToState = (s: string) => s.startsWith('To') || s === 'Both';
