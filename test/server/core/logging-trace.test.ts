// Logs of a real exchange over TCP: connect and disconnect lines carry the peer address (and why the stream
// ended), and at level trace every element in and out is logged with SASL payloads and passwords redacted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { XmppServer } from '../../../src/server/core/server.ts';
import { parseConfig } from '../../../src/server/config.ts';
import { defaultModules } from '../../../src/server/modules/index.ts';
import { createLogOutput } from '../../../src/server/core/logger.ts';
import { deriveCredentials } from '../../../src/server/core/sasl/index.ts';
import { createMemoryStorage } from '../../../src/storage/memory/index.ts';
import { RawClient, NS_HEADER } from '../../helpers/raw-client.ts';
import { ScramClient } from '../../helpers/scram-client.ts';

const PASSWORD = 'Tr0ub4dor&3-secret';
const NEW_PASSWORD = 'c0rrect-h0rse-battery';

interface Line {
  level: number;
  msg: string;
  session?: string;
  peer?: string;
  xml?: string;
  reason?: string;
  jid?: string;
  [k: string]: unknown;
}

function capture(): { stream: Writable; lines: Line[]; raw: () => string } {
  let raw = '';
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw += chunk.toString('utf8');
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Line);
      cb();
    },
  });
  return { stream, lines, raw: () => raw };
}

async function until(test: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('logging of client streams', () => {
  let server: XmppServer;
  let port: number;
  const log = capture();

  before(async () => {
    const config = parseConfig({
      hosts: ['localhost'],
      log_level: 'trace',
      c2s: { listen: ['127.0.0.1:0'], require_tls: false, insecure_plain_auth: true },
      limits: { auth_failure_delay_ms: 0 },
    });
    const storage = createMemoryStorage();
    await storage.accounts.create('juliet@localhost', deriveCredentials(PASSWORD, 4096));
    server = new XmppServer({ config, storage, modules: defaultModules(), logger: createLogOutput({ level: 'trace', stream: log.stream }).logger });
    port = (await server.start()).c2s[0]!.port;
  });
  after(() => server.stop());

  it('traces a PLAIN login, a password change and a message, in and out, with no secret in the log', async () => {
    const c = await RawClient.connect(port);
    const local = (c as unknown as { socket: { localPort: number } }).socket.localPort;
    await c.login('juliet@localhost', PASSWORD, 'balcony');
    // XEP-0077 §3.3 password change and a data form with a password field: whatever the server answers,
    // what the client sent is traced.
    c.send(`<iq type='set' id='reg1' to='localhost'><query xmlns='jabber:iq:register'><username>juliet</username><password>${NEW_PASSWORD}</password></query></iq>`);
    await c.waitStanza((e) => e.attrs.id === 'reg1');
    c.send(`<iq type='set' id='reg2' to='localhost'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='password'><value>${NEW_PASSWORD}x</value></field></x></query></iq>`);
    await c.waitStanza((e) => e.attrs.id === 'reg2');
    c.send(`<message to='juliet@localhost/balcony' id='m1'><body>wherefore art thou</body></message>`);
    await c.waitStanza((e) => e.name === 'message' && e.attrs.id === 'm1');
    c.end();
    await c.closed;
    await until(() => log.lines.some((l) => l.msg === 'disconnected' && l.peer === `127.0.0.1:${local}`), 'the disconnect line');

    const mine = log.lines.filter((l) => l.peer === `127.0.0.1:${local}`);
    const connected = mine.find((l) => l.msg === 'connected');
    assert.ok(connected, 'a connect line with the peer address');
    const disconnected = mine.find((l) => l.msg === 'disconnected')!;
    assert.equal(disconnected.reason, 'client closed the stream');
    assert.equal(disconnected.jid, 'juliet@localhost/balcony');

    const trace = (dir: 'in' | 'out') => mine.filter((l) => l.level === 10 && l.msg === dir).map((l) => l.xml!);
    const ins = trace('in');
    const outs = trace('out');
    assert.ok(ins.some((x) => /^<auth [^>]*mechanism="PLAIN"[^>]*>\[redacted\]<\/auth>$/.test(x)), `the <auth/> traced, redacted: ${ins.join('\n')}`);
    assert.ok(outs.some((x) => /^<success [^>]*>/.test(x)), 'the <success/> traced');
    assert.ok(ins.some((x) => x.includes('<password>[redacted]</password>') && x.includes('<username>juliet</username>')), 'the register password redacted, the rest kept');
    assert.ok(ins.some((x) => /<field var="password"><value>|<field var="password">\[redacted\]<\/field>/.test(x) && x.includes('[redacted]')), 'the form password redacted');
    assert.ok(ins.some((x) => x.startsWith('<message') && x.includes('wherefore art thou')), 'a message in');
    assert.ok(outs.some((x) => x.startsWith('<message') && x.includes('wherefore art thou')), 'the message out');
    assert.ok(outs.some((x) => x.includes('<stream:features')), 'stream negotiation out');

    const all = log.raw();
    assert.ok(!all.includes(PASSWORD), 'the password never appears');
    assert.ok(!all.includes(NEW_PASSWORD), 'the new password never appears');
    assert.ok(!all.includes(Buffer.from(`\0juliet\0${PASSWORD}`).toString('base64')), 'the PLAIN payload never appears');
  });

  it('traces a SCRAM exchange with its challenge, response and success redacted', async () => {
    const c = await RawClient.connect(port);
    const local = (c as unknown as { socket: { localPort: number } }).socket.localPort;
    const scram = new ScramClient('sha256', 'juliet', PASSWORD);
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    const first = Buffer.from(scram.first()).toString('base64');
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${first}</auth>`);
    const challenge = await c.waitStanza((e) => e.local === 'challenge');
    const final = Buffer.from(scram.final(Buffer.from(challenge.text(), 'base64').toString())).toString('base64');
    c.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${final}</response>`);
    const success = await c.waitStanza((e) => e.local === 'success');
    c.destroy();
    await until(() => log.lines.some((l) => l.msg === 'disconnected' && l.peer === `127.0.0.1:${local}`), 'the disconnect line');

    const all = log.raw();
    for (const secret of [first, final, challenge.text(), success.text()]) assert.ok(secret.length > 8 && !all.includes(secret), `no SASL payload in the log: ${secret}`);
    const mine = log.lines.filter((l) => l.peer === `127.0.0.1:${local}` && l.level === 10).map((l) => l.xml!);
    for (const name of ['auth', 'challenge', 'response', 'success']) {
      assert.ok(mine.some((x) => new RegExp(`^<${name} [^>]*>\\[redacted\\]</${name}>$`).test(x)), `<${name}/> traced, redacted`);
    }
    const gone = log.lines.find((l) => l.msg === 'disconnected' && l.peer === `127.0.0.1:${local}`)!;
    assert.equal(gone.jid, undefined);
    assert.match(gone.reason!, /closed|ECONNRESET/);
  });

  it('logs a failed authentication with its condition on the session logger', async () => {
    const c = await RawClient.connect(port);
    const local = (c as unknown as { socket: { localPort: number } }).socket.localPort;
    c.send(NS_HEADER('localhost'));
    await c.waitStanza((e) => e.local === 'features');
    c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0juliet\0wrong-guess').toString('base64')}</auth>`);
    await c.waitStanza((e) => e.local === 'failure');
    c.destroy();
    await until(() => log.lines.some((l) => l.msg.startsWith('authentication failed') && l.peer === `127.0.0.1:${local}`), 'the failure line');
    const line = log.lines.find((l) => l.msg.startsWith('authentication failed') && l.peer === `127.0.0.1:${local}`)!;
    assert.equal(line.condition, 'not-authorized');
    assert.equal(line.account, 'juliet@localhost');
    assert.ok(!log.raw().includes('wrong-guess'));
  });
});
