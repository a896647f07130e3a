// Shared scenario plumbing: connecting accounts, the RFC 6121 subscription handshake over the wire (the same
// for every target), pre-serialised pubsub stanzas, bounded waits.
import { Conn, attr, escapeXml, openAll } from '../load/conn.ts';
import { account, sleep, type Target } from '../targets/common.ts';
import type { Result } from '../report.ts';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';

export interface ScenarioCtx {
  target: Target;
  quick: boolean;
  run: number;
  log: (msg: string) => void;
  /** Unique per harness invocation, for fresh node names. */
  tag: string;
  /** real (default): options on every publish, key payloads; legacy: the earlier scenarios. */
  workload: import('./workload.ts').Workload;
}

export type Scenario = (ctx: ScenarioCtx) => Promise<Result[]>;

export async function connectUsers(ctx: ScenarioCtx, specs: { user: string; resource: string; caps?: string[] }[], concurrency = 50): Promise<Conn[]> {
  const users = [...new Set(specs.map((s) => s.user))];
  await ctx.target.ensureAccounts(users.map(account));
  const conns = specs.map((s) => new Conn({ port: ctx.target.port, domain: ctx.target.domain, user: s.user, password: account(s.user).password, resource: s.resource, capsFeatures: s.caps }));
  await openAll(conns, concurrency);
  // Like real clients, fetch the roster first: RFC 6121 §3.1.3 delivers subscription requests only to
  // "interested" resources (those that requested the roster), and Prosody follows that.
  await Promise.all(
    conns.map((c) => {
      const id = c.newId('roster');
      return c.iq(id, `<iq type='get' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`);
    }),
  );
  return conns;
}

/** Initial presence (with caps when the connection has them). */
export function sendPresence(c: Conn, extra = ''): void {
  c.write(`<presence>${extra}${c.capsElement()}</presence>`);
}

/** Mutual presence subscriptions between each pair, by the RFC 6121 handshake; skipped where already done. */
export async function ensureMutual(ctx: ScenarioCtx, pairs: [Conn, Conn][], timeoutMs = 300000): Promise<void> {
  const key = (a: Conn, b: Conn) => [a.bare, b.bare].sort().join('|');
  const todo = pairs.filter(([a, b]) => !ctx.target.mutual.has(key(a, b)));
  if (todo.length === 0) return;
  // Two phases (a asks b, then b asks a) so no server handles two subscription changes of one roster item
  // at once; each phase paced in bounded batches.
  const phase = async (dir: 0 | 1) => {
    for (let i = 0; i < todo.length; i += 100) {
      for (const p of todo.slice(i, i + 100)) p[dir].subscribe(p[1 - dir]!.bare);
      await sleep(5);
    }
    const done = (p: [Conn, Conn]) => p[dir].gotSubscribed.has(p[1 - dir]!.bare);
    await waitUntil(() => todo.every(done), timeoutMs);
    const missing = todo.filter((p) => !done(p)).length;
    if (missing) throw new Error(`${ctx.target.name}: ${missing} of ${todo.length} subscription requests were not approved`);
  };
  await phase(0);
  await phase(1);
  for (const [a, b] of todo) ctx.target.mutual.add(key(a, b));
}

export function payload(seq: number | string): string {
  return `<entry xmlns='urn:pepkeys:bench:0'><title>item ${seq}</title><summary>${'lorem ipsum dolor sit amet '.repeat(8)}</summary></entry>`;
}

export function publishOptions(fields: Record<string, string>): string {
  const f = Object.entries(fields).map(([k, v]) => `<field var='${k}'><value>${escapeXml(v)}</value></field>`).join('');
  return `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_PUBSUB}#publish-options</value></field>${f}</x></publish-options>`;
}

export function publishIq(id: string, node: string, itemId: string, body: string, options = ''): string {
  return `<iq type='set' id='${id}'><pubsub xmlns='${NS_PUBSUB}'><publish node='${escapeXml(node)}'><item id='${escapeXml(itemId)}'>${body}</item></publish>${options}</pubsub></iq>`;
}

export function isResult(el: string): boolean {
  return attr(el, 'type') === 'result';
}

/** Item ids in a pubsub items result or event (minimal parsing: a regex over the string). */
export function itemIds(el: string): string[] {
  const out: string[] = [];
  const re = /<item\b[^>]*?\sid=(?:'([^']*)'|"([^"]*)")/g;
  for (let m = re.exec(el); m; m = re.exec(el)) out.push(m[1] ?? m[2]!);
  return out;
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
  return true;
}

export function closeAll(conns: Conn[]): void {
  for (const c of conns) c.close();
}

/** Publishes the first item of a node with publish-options configuring it; a field the server does not know
 * in publish-options (ejabberd 23.01 refuses pubsub#max_items there) is dropped and noted, the rest kept. */
export async function publishFirst(c: Conn, node: string, itemId: string, fields: Record<string, string>, notes: string[], body = payload(itemId)): Promise<Record<string, string>> {
  const f = { ...fields };
  for (let attempt = 0; attempt < 4; attempt++) {
    const id = c.newId('init');
    const r = await c.iq(id, publishIq(id, node, itemId, body, Object.keys(f).length ? publishOptions(f) : ''));
    if (isResult(r)) return f;
    const m = /Unknown field (?:&apos;|')([^&']+)/.exec(r);
    if (m && m[1]! in f) {
      notes.push(`publish-options ${m[1]} refused by the server; node default used`);
      delete f[m[1]!];
      continue;
    }
    throw new Error(`publishing the first item of ${node} failed: ${r.slice(r.indexOf('<error'), r.indexOf('<error') + 400)}`);
  }
  throw new Error(`publishing the first item of ${node}: too many options refused`);
}

/**
 * Exactly-once check of a fan-out run: `counts[seq * subs + i]` is how often subscriber i got item seq.
 * Returns the problems to report (missing and duplicate notifications), none when every one arrived once.
 */
export function exactlyOnceProblems(counts: ArrayLike<number>, sent: number, subs: number): string[] {
  let missing = 0;
  let dups = 0;
  for (let seq = 0; seq < sent; seq++) {
    for (let i = 0; i < subs; i++) {
      const n = counts[seq * subs + i]!;
      if (n === 0) missing++;
      else if (n > 1) dups++;
    }
  }
  return [...(missing ? [`${missing} notifications missing`] : []), ...(dups ? [`${dups} duplicate notifications`] : [])];
}
