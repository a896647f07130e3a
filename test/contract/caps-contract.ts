// The CapsStore contract (XEP-0115 verified caps cache).
// Part of the storage contract (./storage-contract.ts runs every part against every adapter).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CapsStore } from '../../src/storage/types.ts';

/** Registers the caps-cache tests; `caps()` is the store under test, empty at the start of each test. */
export function capsContract(caps: () => CapsStore): void {
  describe('caps', () => {
    const info = {
      identities: [
        { category: 'client', type: 'pc', name: 'Psi 0.11', lang: 'en' },
        { category: 'client', type: 'pc' },
      ],
      features: ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info'],
      forms: ['<x xmlns="jabber:x:data" type="result"/>'],
    };

    it('stores and returns entries by key', async () => {
      assert.equal(await caps().get('sha-1:QgayPKawpkPSDYmwT/WM94uAlu0='), undefined);
      await caps().put('sha-1:QgayPKawpkPSDYmwT/WM94uAlu0=', info);
      assert.deepEqual(await caps().get('sha-1:QgayPKawpkPSDYmwT/WM94uAlu0='), info);
      assert.equal(await caps().get('sha-1:other'), undefined);
    });

    it('put replaces an entry', async () => {
      await caps().put('sha-1:k', info);
      await caps().put('sha-1:k', { identities: [], features: ['urn:x'], forms: [] });
      assert.deepEqual(await caps().get('sha-1:k'), { identities: [], features: ['urn:x'], forms: [] });
    });

    it('prune keeps the most recently put or touched entries', async () => {
      const e = (n: number) => ({ identities: [], features: [`urn:f${n}`], forms: [] });
      for (let i = 0; i < 5; i++) await caps().put(`sha-1:${i}`, e(i));
      await caps().touch('sha-1:0');
      await caps().touch('sha-1:absent');
      await caps().put('sha-1:2', e(22));
      assert.equal(await caps().prune(3), 2);
      const left = [];
      for (let i = 0; i < 5; i++) if (await caps().get(`sha-1:${i}`)) left.push(i);
      assert.deepEqual(left, [0, 2, 4]);
      assert.equal(await caps().get('sha-1:absent'), undefined);
      assert.equal(await caps().prune(3), 0);
      assert.equal(await caps().prune(1), 2);
      assert.deepEqual(await caps().get('sha-1:2'), e(22));
    });
  });
}
