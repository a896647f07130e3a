// Our client against a real Prosody 0.12: STARTTLS with the certificate pinned, SCRAM with the server
// signature checked, PEP support detected on the account (XEP-0222 §5), clean close.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startProsody, skipProsody, type ProsodyServer } from '../helpers/prosody.ts';
import { XmppClient, KeysClient, ClientError } from '../../src/client/index.ts';
import { TrustStore, MemoryTrustBackend } from '../../src/keys/index.ts';

describe('client against Prosody', { skip: skipProsody() && 'prosody not installed and PEPKEYS_SKIP_PROSODY=1' }, () => {
  let p: ProsodyServer;
  const clients: XmppClient[] = [];
  before(async () => {
    p = await startProsody({ hosts: ['capulet.lit'], users: { 'juliet@capulet.lit': 'juliet-pw' } });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await p?.stop();
  });
  const base = () => ({ jid: 'juliet@capulet.lit', password: 'juliet-pw', host: '127.0.0.1', port: p.port, timeoutMs: 10_000 });

  it('logs in over STARTTLS with the pinned certificate and the strongest SCRAM Prosody offers', async () => {
    const c = await XmppClient.connect({ ...base(), tls: { ca: p.cert } });
    clients.push(c);
    assert.equal(c.connection.info.tls, true);
    assert.match(c.connection.info.mechanism, /^SCRAM-SHA-(256|1)$/);
    assert.equal(c.jid.bare, 'juliet@capulet.lit');
  });

  it('logs in with SCRAM-SHA-1 explicitly', async () => {
    const c = await XmppClient.connect({ ...base(), tls: { ca: p.cert }, mechanisms: ['SCRAM-SHA-1'] });
    clients.push(c);
    assert.equal(c.connection.info.mechanism, 'SCRAM-SHA-1');
  });

  it('refuses the self-signed certificate unless pinned or insecure', async () => {
    await assert.rejects(XmppClient.connect(base()), (e: ClientError) => e.code === 'tls-failed');
  });

  it('rejects a wrong password', async () => {
    await assert.rejects(XmppClient.connect({ ...base(), password: 'bad', tls: { ca: p.cert } }), (e: ClientError) => e.code === 'auth-failed');
  });

  it('finds PEP with publish-options on the account (XEP-0222 §5)', async () => {
    const c = await XmppClient.connect({ ...base(), tls: { ca: p.cert } });
    clients.push(c);
    const keys = new KeysClient(c, { trust: new TrustStore(new MemoryTrustBackend()) });
    const s = await keys.checkPepSupport();
    assert.equal(s.pep, true, s.problem?.message);
    assert.equal(s.publishOptions, true, s.problem?.message);
  });
});
