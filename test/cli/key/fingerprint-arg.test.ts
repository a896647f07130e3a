// FINGERPRINT arguments in every form the docs promise: the CLI's own "sha-256:<hex>", the hex alone, a prefix
// copied from a table, a base64 print, and the forms other clients print (OMEMO groups with spaces or with
// profanity's dashes, gpg's groups for OX keys).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchFingerprint, normalizeFingerprint } from '../../../src/cli/key/fingerprint-arg.ts';
import { CliError } from '../../../src/cli/errors.ts';

const hex = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b';

describe('FINGERPRINT arguments', () => {
  it('normalises the CLI form, grouped forms and base64 to lower-case hex', () => {
    assert.equal(normalizeFingerprint(`sha-256:${hex}`), hex);
    assert.equal(normalizeFingerprint(hex.toUpperCase()), hex);
    assert.equal(normalizeFingerprint(hex.replace(/(.{8})(?!$)/g, '$1 ')), hex);
    assert.equal(normalizeFingerprint(hex.replace(/(.{8})(?!$)/g, '$1-')), hex);
    assert.equal(normalizeFingerprint(`omemo:${hex}`), hex);
    assert.equal(normalizeFingerprint('1A2B 3C4D 5E6F 7A8B 9C0D  1E2F 3A4B 5C6D 7E8F 9A0B'), '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b');
    assert.equal(normalizeFingerprint(Buffer.from(hex, 'hex').toString('base64')), hex);
    assert.equal(normalizeFingerprint(`${hex.slice(0, 16)}…`), hex.slice(0, 16));
  });

  it('refuses what is no fingerprint, and dashes that do not join hex groups', () => {
    assert.throws(() => normalizeFingerprint('not a fingerprint!'), CliError);
    assert.throws(() => normalizeFingerprint('1a2b--3c4d'), CliError);
  });

  it('matches an OMEMO record by its dashed form, and asks for more digits when a prefix is ambiguous', () => {
    const records = [`omemo:${hex}`, `omemo:${hex.slice(0, 10)}${'0'.repeat(54)}`];
    assert.equal(matchFingerprint(hex.replace(/(.{8})(?!$)/g, '$1-'), records, (r) => r, 'key'), records[0]);
    assert.throws(() => matchFingerprint(hex.slice(0, 10), records, (r) => r, 'key'), /matches 2 keys/);
  });
});
