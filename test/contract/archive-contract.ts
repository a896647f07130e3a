// The ArchiveStore contract (XEP-0313 user archives): filters, XEP-0059 pages in both directions, anchors,
// retention and removal. Part of the storage contract (./storage-contract.ts runs every part against every
// adapter).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccountStore, ArchivedMessage, ArchivePageQuery, ArchiveStore } from '../../src/storage/types.ts';
import { credentials } from './fixtures.ts';

const owner = 'alice@example.org';

function message(i: number, extra: Partial<ArchivedMessage> = {}): ArchivedMessage {
  return {
    id: `m${String(i).padStart(3, '0')}`,
    with: i % 3 === 0 ? 'bob@example.org/phone' : i % 3 === 1 ? 'bob@example.org/laptop' : 'carol@example.org',
    storedAt: 1_700_000_000_000 + i * 1000,
    stanza: `<message xmlns="jabber:client" id="s${i}"><body>${i}</body></message>`,
    ...extra,
  };
}

const idsOf = (ms: ArchivedMessage[]) => ms.map((m) => m.id);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => message(from + i).id);

/** Registers the archive tests; `archive()` is the store under test, empty at the start of each test. */
export function archiveContract(archive: () => ArchiveStore, accounts?: () => AccountStore): void {
  describe('archive', () => {
    const fill = async (n: number, who = owner) => {
      for (let i = 0; i < n; i++) await archive().append(who, message(i));
    };
    const q = (query: Partial<ArchivePageQuery>) => archive().query(owner, { max: 100, ...query });

    it('keeps messages as given, oldest first, with count, index and complete', async () => {
      await fill(3);
      const page = await q({});
      assert.deepEqual(page, { messages: [message(0), message(1), message(2)], count: 3, index: 0, complete: true });
      assert.deepEqual(await archive().query('nobody@example.org', { max: 10 }), { messages: [], count: 0, index: 0, complete: true });
    });

    it('pages forwards with after and backwards with before, without gaps or repeats', async () => {
      await fill(25);
      const forward: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await q({ max: 10, after });
        assert.equal(page.count, 25);
        assert.equal(page.index, forward.length);
        forward.push(...idsOf(page.messages));
        if (page.complete) break;
        after = page.messages[page.messages.length - 1]!.id;
      }
      assert.deepEqual(forward, range(0, 25));

      const backward: string[][] = [];
      let page = await q({ max: 10, last: true });
      for (;;) {
        backward.unshift(idsOf(page.messages));
        assert.equal(page.index, 25 - backward.flat().length);
        if (page.complete) break;
        page = await q({ max: 10, before: page.messages[0]!.id });
      }
      assert.deepEqual(backward.map((p) => p.length), [5, 10, 10]);
      assert.deepEqual(backward.flat(), range(0, 25));
    });

    it('an incomplete page says so; the page reaching the end is complete', async () => {
      await fill(20);
      assert.equal((await q({ max: 10 })).complete, false);
      assert.equal((await q({ max: 10, after: message(9).id })).complete, true);
      assert.equal((await q({ max: 10, last: true })).complete, false);
      assert.equal((await q({ max: 10, before: message(10).id })).complete, true);
      const none = await q({ max: 10, after: message(19).id });
      assert.deepEqual(none.messages, []);
      assert.equal(none.complete, true);
      // max 0: only the count (XEP-0059 §2.7).
      const count = await q({ max: 0 });
      assert.deepEqual([count.messages, count.count], [[], 20]);
    });

    it('filters by a bare JID (every resource) or a full JID (that one), and by time, inclusive', async () => {
      await fill(12);
      assert.deepEqual(idsOf((await q({ with: 'bob@example.org' })).messages), idsOf([0, 1, 3, 4, 6, 7, 9, 10].map((i) => message(i))));
      assert.deepEqual(idsOf((await q({ with: 'bob@example.org/phone' })).messages), idsOf([0, 3, 6, 9].map((i) => message(i))));
      assert.deepEqual(idsOf((await q({ with: 'carol@example.org' })).messages), idsOf([2, 5, 8, 11].map((i) => message(i))));
      const t = (i: number) => message(i).storedAt;
      assert.deepEqual(idsOf((await q({ start: t(3), end: t(6) })).messages), range(3, 7));
      const page = await q({ with: 'bob@example.org', start: t(3), max: 2 });
      assert.deepEqual([idsOf(page.messages), page.count, page.index, page.complete], [[message(3).id, message(4).id], 6, 0, false]);
      const next = await q({ with: 'bob@example.org', start: t(3), max: 2, after: message(4).id });
      assert.deepEqual([idsOf(next.messages), next.index], [[message(6).id, message(7).id], 2]);
    });

    it('after-id, before-id and ids narrow the set the pages are taken from', async () => {
      await fill(10);
      const between = await q({ afterId: message(2).id, beforeId: message(8).id, max: 3 });
      assert.deepEqual([idsOf(between.messages), between.count, between.complete], [range(3, 6), 5, false]);
      const last = await q({ afterId: message(2).id, beforeId: message(8).id, max: 3, last: true });
      assert.deepEqual([idsOf(last.messages), last.index, last.complete], [range(5, 8), 2, false]);
      const picked = await q({ ids: [message(7).id, message(1).id, 'missing'] });
      assert.deepEqual([idsOf(picked.messages), picked.count], [[message(1).id, message(7).id], 2]);
    });

    it('an anchor not in the archive is ArchiveIdNotFoundError, also one of another owner', async () => {
      await fill(3);
      await archive().append('bob@example.org', message(50));
      for (const anchor of [{ after: 'nope' }, { before: 'nope' }, { afterId: 'nope' }, { beforeId: message(50).id }]) {
        await assert.rejects(q(anchor), (err: unknown) => (err as { code?: string }).code === 'ARCHIVE_ID_NOT_FOUND');
      }
    });

    it('ids are per owner: another owner may use the same id, the same owner may not', async () => {
      await archive().append(owner, message(1));
      await archive().append('bob@example.org', message(1));
      await assert.rejects(archive().append(owner, message(1, { stanza: '<message xmlns="jabber:client"/>' })));
      assert.equal((await q({})).count, 1);
    });

    it('trim keeps only the newest maxItems of that owner', async () => {
      await archive().append('bob@example.org', message(99));
      await fill(8);
      assert.equal(await archive().trim(owner, 5), 3);
      assert.deepEqual(idsOf((await q({})).messages), range(3, 8));
      assert.equal(await archive().trim(owner, 5), 0);
      assert.equal(await archive().trim('nobody@example.org', 5), 0);
      assert.equal((await archive().query('bob@example.org', { max: 10 })).count, 1);
      assert.equal(await archive().trim(owner, 0), 5);
      assert.equal((await q({})).count, 0);
    });

    it('expire deletes what is older than the instant, for every owner', async () => {
      await fill(6);
      await fill(6, 'bob@example.org');
      assert.equal(await archive().expire(message(4).storedAt), 8);
      assert.deepEqual(idsOf((await q({})).messages), range(4, 6));
      assert.equal((await archive().query('bob@example.org', { max: 10 })).count, 2);
      assert.equal(await archive().expire(0), 0);
    });

    it('keeps preferences per owner; removeOwner forgets messages and preferences of that owner only', async () => {
      assert.equal(await archive().getPrefs(owner), undefined);
      await archive().setPrefs(owner, { default: 'roster', always: ['bob@example.org'], never: ['eve@example.org/x'] });
      await archive().setPrefs(owner, { default: 'never', always: [], never: ['eve@example.org'] });
      await archive().setPrefs('bob@example.org', { default: 'always', always: [], never: [] });
      assert.deepEqual(await archive().getPrefs(owner), { default: 'never', always: [], never: ['eve@example.org'] });
      await fill(3);
      await fill(2, 'bob@example.org');
      await archive().removeOwner(owner);
      assert.equal(await archive().getPrefs(owner), undefined);
      assert.equal((await q({})).count, 0);
      assert.equal((await archive().query('bob@example.org', { max: 10 })).count, 2);
      assert.deepEqual(await archive().getPrefs('bob@example.org'), { default: 'always', always: [], never: [] });
      // The ids of a removed archive may be used again.
      await fill(1);
      assert.equal((await q({})).count, 1);
    });

    if (accounts) {
      it('deleting the account deletes its archive and preferences', async () => {
        await accounts().create(owner, credentials('a'));
        await fill(3);
        await archive().setPrefs(owner, { default: 'never', always: [], never: [] });
        assert.equal(await accounts().delete(owner), true);
        assert.equal((await q({})).count, 0);
        assert.equal(await archive().getPrefs(owner), undefined);
      });
    }
  });
}
