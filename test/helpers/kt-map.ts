// Waiting for a domain's verifiable map to cover its log (issue 14 Stage 2): the map follows tree heads, so a
// test that published keys signs a fresh head, then polls the map head (with a generous bound) until its log
// size reaches that head's.
import assert from 'node:assert/strict';
import type { Element } from '../../src/xml/index.ts';
import { NS_KT, parseTreeHead } from '../../src/transparency/protocol.ts';
import { parseMapHead } from '../../src/transparency/map-protocol.ts';
import type { SignedMapHead } from '../../src/transparency/map-head.ts';

export async function mapCatchesUp(iq: (xml: string) => Promise<Element>, domain = 'localhost'): Promise<SignedMapHead> {
  const size = parseTreeHead((await iq(`<iq type='get' to='${domain}'><head xmlns='${NS_KT}' fresh='true'/></iq>`)).getChild('tree-head', NS_KT)!).size;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await iq(`<iq type='get' to='${domain}'><map-head xmlns='${NS_KT}'/></iq>`);
    const el = r.attrs.type === 'result' ? r.getChild('map-head', NS_KT) : undefined;
    if (el && parseMapHead(el).logSize >= size) return parseMapHead(el);
    if (Date.now() > deadline) assert.fail(`the map of ${domain} did not reach log size ${size}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
