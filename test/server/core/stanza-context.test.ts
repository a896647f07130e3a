// One request context: the session builds it once, and the router's hooks and the IQ handler get it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { x } from '../../../src/xml/index.ts';
import { defineModule } from '../../../src/server/core/module-host.ts';
import { NOT_PIPELINED, type IqContext, type StanzaContext } from '../../../src/server/core/stanza-context.ts';
import { createSessionKey } from '../../../src/cluster/index.ts';
import { defaultModules } from '../../../src/server/modules/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { RawClient } from '../../helpers/raw-client.ts';

const NS = 'urn:test:context';
const SEEN = createSessionKey<number>('probe');

describe('stanza context', () => {
  let t: TestServer;
  const hooked: StanzaContext[] = [];
  const handled: IqContext[] = [];
  const probe = defineModule({
    name: 'probe',
    setup(api) {
      api.hook('outgoing/iq', (ctx) => void hooked.push(ctx));
      api.handleIq('account', NS, (ctx) => {
        handled.push(ctx);
        // Typed per-module state on the session, reached as a ModuleSession.
        ctx.origin!.set(SEEN, (ctx.origin!.get(SEEN) ?? 0) + 1);
        return x('seen', { xmlns: NS, n: String(ctx.origin!.get(SEEN)) });
      }, { pipelined: (payload) => payload.attrs.pipelined === 'yes' });
    },
  });
  before(async () => {
    t = await startTestServer({ users: { 'ann@localhost': 'pw' }, modules: [...defaultModules(), probe] });
  });
  after(() => t.stop());

  it('reaches hooks and the IQ handler as one context with from, to, origin and proceed', async () => {
    const c = await RawClient.connect(t.port);
    try {
      await c.login('ann@localhost', 'pw', 'r');
      const one = await c.iq(`<iq type='get'><q xmlns='${NS}'/></iq>`);
      const two = await c.iq(`<iq type='get' to='ann@localhost'><q xmlns='${NS}' pipelined='yes'/></iq>`);
      assert.deepEqual([one, two].map((r) => r.getChild('seen', NS)?.attrs.n), ['1', '2']);
      assert.equal(handled.length, 2);
      const [plain, pipelined] = handled as [IqContext, IqContext];
      // The hook saw the object the session built; the handler gets it with the IQ's payload and type.
      assert.equal(hooked[0]!.stanza, plain.stanza);
      assert.equal(hooked[0]!.origin, plain.origin);
      assert.equal(plain.from.full, 'ann@localhost/r');
      assert.equal(plain.to.full, 'ann@localhost', "no 'to': the sender's own account");
      assert.equal(plain.type, 'get');
      assert.equal(plain.payload.ns, NS);
      assert.equal(plain.proceed, NOT_PIPELINED, 'nothing to proceed for when not pipelined');
      assert.equal(plain.previous, undefined);
      assert.notEqual(pipelined.proceed, NOT_PIPELINED, 'a pipelined request can let its session move on');
      assert.ok(pipelined.previous instanceof Promise);
    } finally {
      c.destroy();
    }
  });
});
