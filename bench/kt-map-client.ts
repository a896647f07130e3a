// What the client's map state costs (docs/transparency.md "Client state of the map"): when a lookup brings a
// newer epoch, the client parses and verifies an append-only proof from the epoch it kept. Measured here on
// the XML answer (parse + verify, CPU) for an old map of OLD entries and K new ones, K up to the 10 000 a
// domain answers at once, with the answer's size. Usage: node --import tsx bench/kt-map-client.ts [OLD]
import { randomBytes } from 'node:crypto';
import { MemoryMapEntries } from '../src/transparency/map/memory-source.ts';
import { SparseMerkleMap } from '../src/transparency/map/tree.ts';
import { proveAppendOnly, verifyAppendOnly } from '../src/transparency/map/append-proof.ts';
import { buildAppendProof, parseAppendProof } from '../src/transparency/map-protocol.ts';
import { x, parseXml } from '../src/xml/index.ts';
import { NS_KT } from '../src/transparency/protocol.ts';

const old = Number(process.argv[2] ?? '100000');
const entry = (epoch: number) => ({ label: new Uint8Array(randomBytes(32)), commitment: new Uint8Array(randomBytes(32)), epoch });
const byLabel = (a: { label: Uint8Array }, b: { label: Uint8Array }) => Buffer.compare(a.label, b.label);
const olds = Array.from({ length: old }, () => entry(1));
for (const k of [1, 100, 1000, 10_000]) {
  const added = Array.from({ length: k }, () => entry(2)).sort(byLabel);
  // Inserted in label order: each insert appends (MemoryMapEntries keeps them sorted by splicing).
  const m = new MemoryMapEntries();
  m.insert([...olds, ...added].sort(byLabel));
  const [oldRoot, newRoot] = [await new SparseMerkleMap(m.source(1)).root(), await new SparseMerkleMap(m.source(2)).root()];
  const proof = await proveAppendOnly(new SparseMerkleMap(m.source(1)), added.map(({ label, commitment }) => ({ label, commitment })));
  const xml = x('map-append', { xmlns: NS_KT, from: '1', to: '2' }, buildAppendProof(proof)).toString();
  const runs = k >= 1000 ? 5 : 50;
  const cpu = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    if (!verifyAppendOnly(oldRoot, newRoot, parseAppendProof(parseXml(xml)))) throw new Error('the proof does not verify');
  }
  const c = process.cpuUsage(cpu);
  console.log(JSON.stringify({ figure: 'client: parse + verify an append-only proof', oldEntries: old, newEntries: k, kB: Math.round(xml.length / 1000), msCpu: +((c.user + c.system) / 1000 / runs).toFixed(2) }));
}
