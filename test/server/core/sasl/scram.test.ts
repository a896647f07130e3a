import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { scramMechanism, deriveCredentials, deriveCredential, verifyPassword } from '../../../../src/server/core/sasl/index.ts';
import { ScramClient } from '../../../helpers/scram-client.ts';
import type { AccountCredentials } from '../../../../src/storage/types.ts';

const secret = Buffer.alloc(32, 7);

describe('SCRAM credentials', () => {
  it('derive the RFC 5802 §5 example keys (user/pencil) so its client proof verifies', () => {
    const c = deriveCredential('SHA-1', 'pencil', 4096, Buffer.from('QSXCR+Q6sek8bf92', 'base64'));
    const authMessage = 'n=user,r=fyko+d2lbbFgONRv9qkxdawL,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j';
    const storedKey = Buffer.from(c.storedKey, 'base64');
    const proof = Buffer.from('v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=', 'base64');
    const sig = createHmac('sha1', storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(proof.map((b, i) => b ^ sig[i]!));
    assert.deepEqual(createHash('sha1').update(clientKey).digest(), storedKey);
    const serverSig = createHmac('sha1', Buffer.from(c.serverKey, 'base64')).update(authMessage).digest('base64');
    assert.equal(serverSig, 'rmF9pqV8S7suAoZWja4dJRkFsKQ=');
  });

  it('derive the RFC 7677 §3 example keys (SCRAM-SHA-256)', () => {
    const c = deriveCredential('SHA-256', 'pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const authMessage = 'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const serverSig = createHmac('sha256', Buffer.from(c.serverKey, 'base64')).update(authMessage).digest('base64');
    assert.equal(serverSig, '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('never store the password and check PLAIN passwords against the stored keys', () => {
    const creds = deriveCredentials('correct horse', 4096);
    assert.doesNotMatch(JSON.stringify(creds), /correct horse/);
    assert.equal(verifyPassword(creds, 'correct horse'), true);
    assert.equal(verifyPassword(creds, 'correct hors'), false);
  });
});

describe('SCRAM exchange', () => {
  const creds: AccountCredentials = deriveCredentials('pencil', 4096);
  const offered = ['SCRAM-SHA-256', 'SCRAM-SHA-1'];
  const ctx = { domain: 'example.com', lockedOut: () => false, secret, lookup: async (u: string) => (u === 'user' ? creds : undefined), channelBinding: () => undefined, channelBindingTypes: [], offeredMechanisms: offered };
  const cbData = Buffer.from('0123456789abcdef0123456789abcdef');
  const tlsCtx = {
    ...ctx,
    channelBinding: (type: string) => (type === 'tls-exporter' ? cbData : undefined),
    channelBindingTypes: ['tls-exporter'],
    offeredMechanisms: ['SCRAM-SHA-256-PLUS', ...offered],
  };

  for (const [mech, hash] of [['SHA-256', 'sha256'], ['SHA-1', 'sha1']] as const) {
    it(`SCRAM-${mech} succeeds with the right password and proves the server knows the keys`, async () => {
      const ex = scramMechanism(mech).start(ctx);
      const client = new ScramClient(hash, 'user', 'pencil');
      const s1 = await ex.step(Buffer.from(client.first()));
      assert.equal(s1.kind, 'challenge');
      const s2 = await ex.step(Buffer.from(client.final((s1 as { data: Buffer }).data.toString())));
      assert.equal(s2.kind, 'success');
      assert.equal((s2 as { username: string }).username, 'user');
      assert.ok(client.verify((s2 as { data: Buffer }).data.toString()));
    });

    it(`SCRAM-${mech} fails with the wrong password`, async () => {
      const ex = scramMechanism(mech).start(ctx);
      const client = new ScramClient(hash, 'user', 'pen');
      const s1 = await ex.step(Buffer.from(client.first()));
      const s2 = await ex.step(Buffer.from(client.final((s1 as { data: Buffer }).data.toString())));
      assert.deepEqual(s2, { kind: 'failure', condition: 'not-authorized', username: 'user', reason: 'wrong password', badCredentials: true });
    });
  }

  it('sends the XEP-0474 downgrade-protection hash over the offered mechanisms and binding types', async () => {
    const client = new ScramClient('sha256', 'user', 'pencil');
    const s1 = await scramMechanism('SHA-256').start(tlsCtx).step(Buffer.from(client.first()));
    client.final((s1 as { data: Buffer }).data.toString());
    assert.equal(client.serverAttrs.d, client.expectedDowngradeHash(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1'], ['tls-exporter']));
    assert.notEqual(client.serverAttrs.d, client.expectedDowngradeHash(['SCRAM-SHA-256', 'SCRAM-SHA-1'], []));
  });

  it('SCRAM-SHA-256-PLUS binds the login to the channel: right data succeeds, other data fails', async () => {
    const good = new ScramClient('sha256', 'user', 'pencil', { type: 'tls-exporter', data: cbData });
    const ex = scramMechanism('SHA-256', true).start(tlsCtx);
    const s1 = await ex.step(Buffer.from(good.first()));
    const s2 = await ex.step(Buffer.from(good.final((s1 as { data: Buffer }).data.toString())));
    assert.equal(s2.kind, 'success');
    assert.ok(good.verify((s2 as { data: Buffer }).data.toString()));

    // A man in the middle terminates TLS itself, so the client sees other binding data.
    const mitm = new ScramClient('sha256', 'user', 'pencil', { type: 'tls-exporter', data: Buffer.alloc(32, 1) });
    const ex2 = scramMechanism('SHA-256', true).start(tlsCtx);
    const t1 = await ex2.step(Buffer.from(mitm.first()));
    const t2 = await ex2.step(Buffer.from(mitm.final((t1 as { data: Buffer }).data.toString())));
    assert.equal(t2.kind, 'failure');
  });

  it('refuses mismatched channel binding flags (RFC 5802 §6)', async () => {
    // 'y' while the server offers binding: the -PLUS offer was stripped on the way.
    const y = await scramMechanism('SHA-256').start(tlsCtx).step(Buffer.from(new ScramClient('sha256', 'user', 'pencil', 'y').first()));
    assert.equal(y.kind, 'failure');
    // 'y' without TLS binding on offer is fine.
    const yOk = await scramMechanism('SHA-256').start(ctx).step(Buffer.from(new ScramClient('sha256', 'user', 'pencil', 'y').first()));
    assert.equal(yOk.kind, 'challenge');
    // A -PLUS mechanism without binding, and an unknown binding type.
    const n = await scramMechanism('SHA-256', true).start(tlsCtx).step(Buffer.from(new ScramClient('sha256', 'user', 'pencil').first()));
    assert.equal(n.kind, 'failure');
    const unknown = await scramMechanism('SHA-256', true).start(tlsCtx).step(Buffer.from(new ScramClient('sha256', 'user', 'pencil', { type: 'tls-unique', data: cbData }).first()));
    assert.equal(unknown.kind, 'failure');
  });

  it('gives an unknown user a plausible, stable challenge and then fails', async () => {
    const salts = [];
    for (let i = 0; i < 2; i++) {
      const ex = scramMechanism('SHA-256').start(ctx);
      const client = new ScramClient('sha256', 'nobody', 'x');
      const s1 = await ex.step(Buffer.from(client.first()));
      const text = (s1 as { data: Buffer }).data.toString();
      assert.match(text, /^r=.+,s=[A-Za-z0-9+/=]{24},i=4096,d=[A-Za-z0-9+/=]+$/);
      salts.push(text.split(',')[1]);
      const s2 = await ex.step(Buffer.from(client.final(text)));
      assert.equal(s2.kind, 'failure');
    }
    assert.equal(salts[0], salts[1]);
  });

  it('refuses channel binding requests it cannot honour and malformed messages', async () => {
    const cb = await scramMechanism('SHA-256').start(ctx).step(Buffer.from('p=tls-exporter,,n=user,r=abc'));
    assert.equal(cb.kind, 'failure');
    const bad = await scramMechanism('SHA-256').start(ctx).step(Buffer.from('garbage'));
    assert.deepEqual(bad.kind, 'failure');
    const ex = scramMechanism('SHA-256').start(ctx);
    const client = new ScramClient('sha256', 'user', 'pencil');
    await ex.step(Buffer.from(client.first()));
    const tampered = await ex.step(Buffer.from('c=biws,r=not-the-nonce,p=AAAA'));
    assert.equal(tampered.kind, 'failure');
  });
});
