// The CLI's wording around client errors, and the direct-access decision `key watch` makes with the server's
// access rule: pure functions, checked without a server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyOpError, KEY_OP_ERROR_KINDS, type KeyOpErrorCode, type RosterEntry } from '../../src/client/index.ts';
import { parseJid } from '../../src/jid/index.ts';
import { keyOpErrorSentence } from '../../src/cli/key/presenter.ts';
import { EXIT_BY_KEY_OP_KIND, EXIT_NOT_FOUND, EXIT_REFUSED } from '../../src/cli/key/exit-codes.ts';
import { directAccessPolicy } from '../../src/cli/key/direct-access.ts';
import type { PublishSettings } from '../../src/cli/key/home.ts';

describe('key presenter', () => {
  it('adds the direct paths when PEP cannot take the key', () => {
    for (const code of ['no-pep', 'no-publish-options', 'discovery-failed'] as const) {
      assert.match(keyOpErrorSentence(new KeyOpError(code, 'what happened')), /^what happened; you can still send your key directly with `pepkeys key send JID`.*`pepkeys key watch`/);
    }
  });

  it('names the flag that resolves a conflict or an unsupported access model, and adds nothing elsewhere', () => {
    assert.match(keyOpErrorSentence(new KeyOpError('node-conflict', 'x')), /^x; publish again with --reconfigure/);
    assert.match(keyOpErrorSentence(new KeyOpError('access-model-unsupported', 'x')), /^x; use --access presence/);
    assert.equal(keyOpErrorSentence(new KeyOpError('access-denied', 'x')), 'x');
  });

  it('gives every client error code an exit code: 3 for refusals, 4 for nothing found', () => {
    for (const code of Object.keys(KEY_OP_ERROR_KINDS) as KeyOpErrorCode[]) {
      const exit = EXIT_BY_KEY_OP_KIND[new KeyOpError(code, '').kind];
      assert.ok(exit === EXIT_REFUSED || exit === EXIT_NOT_FOUND, code);
    }
    assert.equal(EXIT_BY_KEY_OP_KIND[new KeyOpError('no-key', '').kind], EXIT_NOT_FOUND);
    assert.equal(EXIT_BY_KEY_OP_KIND[new KeyOpError('access-denied', '').kind], EXIT_REFUSED);
  });
});

describe('key watch: who may request the key directly', () => {
  const me = parseJid('juliet@capulet.lit/balcony');
  const roster: RosterEntry[] = [
    { jid: 'romeo@montague.lit', subscription: 'both', groups: ['Friends'] },
    { jid: 'nurse@capulet.lit', subscription: 'both', groups: ['Servants'] },
    { jid: 'tybalt@capulet.lit', subscription: 'to', groups: ['Friends'] },
  ];
  const may = async (settings: PublishSettings | undefined, who: string) => directAccessPolicy(me, () => settings, async () => roster)(parseJid(who));

  it('follows the access model of the last publish, as the PEP service would', async () => {
    assert.equal(await may(undefined, 'romeo@montague.lit/x'), false);
    assert.equal(await may({ access: 'open' }, 'stranger@else.where/x'), true);
    assert.equal(await may({ access: 'presence' }, 'romeo@montague.lit/x'), true);
    assert.equal(await may({ access: 'presence' }, 'tybalt@capulet.lit/x'), false); // subscription "to" only
    assert.equal(await may({ access: 'roster', groups: ['Friends'] }, 'romeo@montague.lit/x'), true);
    assert.equal(await may({ access: 'roster', groups: ['Friends'] }, 'nurse@capulet.lit/x'), false);
    assert.equal(await may({ access: 'whitelist', allow: ['nurse@capulet.lit'] }, 'nurse@capulet.lit/x'), true);
    assert.equal(await may({ access: 'whitelist', allow: ['nurse@capulet.lit'] }, 'romeo@montague.lit/x'), false);
    assert.equal(await may({ access: 'whitelist' }, 'juliet@capulet.lit/phone'), true); // our own other clients
  });
});
