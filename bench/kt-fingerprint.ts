// What a key event's fingerprint costs on the publish path with transparency on (src/transparency/key-events.ts
// keyFingerprint: parse the XEP-0189 <pubkey/>, build its print input, digest it), per step, on the bench's
// real payloads (RSA-2048 and Ed25519 SPKI). Usage: node --import tsx bench/kt-fingerprint.ts [iterations]
import { parseXml } from '../src/xml/index.ts';
import { keyFingerprint } from '../src/transparency/key-events.ts';
import { parsePubkey, pubkeyPrintId, pubkeyPrintInput } from '../src/keys/pubkey.ts';
import { keyPayloads, prepareKeys } from './scenarios/workload.ts';

const N = Number(process.argv[2] ?? 20000);
await prepareKeys();
const [rsa, ed] = keyPayloads('juliet@capulet.lit');
for (const [name, xml] of [['rsa-2048', rsa], ['ed25519', ed]] as const) {
  const el = parseXml(xml);
  const node = 'urn:xmpp:pubkey:2';
  const time = (label: string, fn: () => unknown) => {
    for (let i = 0; i < 2000; i++) fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn();
    console.log(`${name} ${label}: ${(Number(process.hrtime.bigint() - t0) / N / 1000).toFixed(2)} µs`);
  };
  const pk = parsePubkey(el);
  time('keyFingerprint (all)', () => keyFingerprint(node, el));
  time('parsePubkey', () => parsePubkey(el));
  time('pubkeyPrintInput', () => pubkeyPrintInput(pk));
  time('pubkeyPrintId', () => pubkeyPrintId(pk));
}
