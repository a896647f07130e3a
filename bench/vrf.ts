// Verifiable map VRF benchmark (issue 14, Stage 2): the cost of one RFC 9381 ECVRF-EDWARDS25519-SHA512-TAI
// prove (server: one per key event, when the map is built), verify (client: one per lookup), a map label
// (prove + proof_to_hash), a label alone (the map builder's: the output without a proof) and a commitment; the
// noble-only arithmetic (before secret products went to OpenSSL X25519) beside the default, in the same
// process, so their ratio survives a loaded machine; verify likewise (client: public scalars as X25519
// products, vs noble's variable-time multiplications). Usage:
//   node --import tsx bench/vrf.ts [--ops 3000] [--rounds 1] [--only verify,verifyMapLabel]
// (--only: the figures whose name, less a .noble/.before suffix, is listed). Prints one JSON line per figure
// and round: µs per op, wall and this process's CPU time (the CPU figure is the one that says what the code
// costs on a shared machine). Bounded: every loop has a count.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { vrfGenerateKeyPair, vrfHash, vrfProofToHash, vrfProve, vrfVerify } from '../src/transparency/vrf.ts';
import { mapAlpha, mapLabel, mapLabelOnly, verifyMapLabel } from '../src/transparency/map-label.ts';
import { commitmentNonce, commitValue } from '../src/transparency/map-commitment.ts';

const { values } = parseArgs({ options: { ops: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '1' }, only: { type: 'string' } } });
const ops = Number(values.ops);
const only = values.only ? new Set(values.only.split(',')) : null;
const kp = vrfGenerateKeyPair();
const alphas = Array.from({ length: ops }, () => new Uint8Array(randomBytes(40)));
const jids = Array.from({ length: ops }, (_, i) => `user${i}@capulet.lit`);

function measure(name: string, round: number, fn: (i: number) => void): void {
  if (only && !only.has(name.replace(/\.(noble|before)$/, ''))) return;
  for (let i = 0; i < Math.min(200, ops); i++) fn(i); // warm-up: JIT, noble's base-point tables
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) fn(i);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = cpu.user + cpu.system;
  console.log(JSON.stringify({ bench: `vrf.${name}`, round, ops, usPerOpWall: +(wallUs / ops).toFixed(1), usPerOpCpu: +(cpuUs / ops).toFixed(1), opsPerSecCpu: Math.round((ops * 1e6) / cpuUs) }));
}

const proofs = alphas.map((a) => vrfProve(kp.secretKey, a));
const labels = jids.map((j) => mapLabel(kp.secretKey, j, 'urn:xmpp:pubkey:2', 1));
const secret = new Uint8Array(randomBytes(32));
const value = new Uint8Array(randomBytes(32));
let sink = 0;
for (let round = 1; round <= Number(values.rounds); round++) {
  measure('prove', round, (i) => { sink ^= vrfProve(kp.secretKey, alphas[i]!)[0]!; });
  measure('prove.noble', round, (i) => { sink ^= vrfProve(kp.secretKey, alphas[i]!, 'noble')[0]!; });
  measure('hash', round, (i) => { sink ^= vrfHash(kp.secretKey, alphas[i]!)[0]!; });
  measure('hash.noble', round, (i) => { sink ^= vrfHash(kp.secretKey, alphas[i]!, 'noble')[0]!; });
  measure('verify', round, (i) => { if (!vrfVerify(kp.publicKey, alphas[i]!, proofs[i]!)) throw new Error('verify failed'); });
  measure('verify.noble', round, (i) => { if (!vrfVerify(kp.publicKey, alphas[i]!, proofs[i]!, 'noble')) throw new Error('verify failed'); });
  measure('mapLabel', round, (i) => { sink ^= mapLabel(kp.secretKey, jids[i]!, 'urn:xmpp:pubkey:2', 1).label[0]!; });
  // What a label cost before: a noble proof, then proof_to_hash decoding Gamma from it.
  measure('mapLabel.before', round, (i) => { sink ^= vrfProofToHash(vrfProve(kp.secretKey, mapAlpha(jids[i]!, 'urn:xmpp:pubkey:2', 1), 'noble'))[0]!; });
  measure('mapLabelOnly', round, (i) => { sink ^= mapLabelOnly(kp.secretKey, jids[i]!, 'urn:xmpp:pubkey:2', 1)[0]!; });
  measure('verifyMapLabel', round, (i) => { if (!verifyMapLabel(kp.publicKey, jids[i]!, 'urn:xmpp:pubkey:2', 1, labels[i]!.proof)) throw new Error('label failed'); });
  measure('commit', round, (i) => { sink ^= commitValue(commitmentNonce(secret, labels[i]!.label), labels[i]!.label, value)[0]!; });
}
if (sink === 0x1_0000) console.log(sink); // keeps the results live
