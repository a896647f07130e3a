// Canonical XML 1.0 against the W3C recommendation's own examples (xml-c14n §3.3 and §3.4, the parts our
// restricted-XML parser accepts), plus the exclusive namespace rule and inter-element text removal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml } from '../../src/xml/index.ts';
import { canonicalize, withoutInterElementText } from '../../src/xml/canonical.ts';

test('W3C C14N §3.3 start and end tags', () => {
  const doc = parseXml(`<doc>
   <e1   />
   <e2   ></e2>
   <e3   name = "elem3"   id="elem3"   />
   <e4   name="elem4"   id="elem4"   ></e4>
   <e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm"
      xmlns:b="http://www.ietf.org"
      xmlns:a="http://www.w3.org"
      xmlns="http://example.org"/>
   <e6 xmlns="" xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="" xmlns:a="http://www.w3.org">
            <e9 xmlns="" xmlns:a="http://www.ietf.org"/>
         </e8>
      </e7>
   </e6>
</doc>`);
  assert.equal(
    canonicalize(doc),
    `<doc>
   <e1></e1>
   <e2></e2>
   <e3 id="elem3" name="elem3"></e3>
   <e4 id="elem4" name="elem4"></e4>
   <e5 xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5>
   <e6 xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="">
            <e9 xmlns:a="http://www.ietf.org"></e9>
         </e8>
      </e7>
   </e6>
</doc>`,
  );
});

test('W3C C14N §3.4 character modifications (without the DTD-dependent parts)', () => {
  const doc = parseXml(`<doc>
   <text>First line&#x0d;&#10;Second line</text>
   <value>&#x32;</value>
   <compute><![CDATA[value>"0" && value<"10" ?"valid":"error"]]></compute>
   <compute expr='value>"0" &amp;&amp; value&lt;"10" ?"valid":"error"'>valid</compute>
   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>
</doc>`);
  assert.equal(
    canonicalize(doc),
    `<doc>
   <text>First line&#xD;
Second line</text>
   <value>2</value>
   <compute>value&gt;"0" &amp;&amp; value&lt;"10" ?"valid":"error"</compute>
   <compute expr="value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;">valid</compute>
   <norm attr=" '    &#xD;&#xA;&#x9;   ' "></norm>
</doc>`,
  );
});

test('subset apex: inclusive renders inherited namespaces, exclusive only visibly used ones', () => {
  const iq = parseXml(
    `<iq xmlns='jabber:client' xmlns:foo='urn:foo' xml:lang='en'><KeyInfo xmlns='http://www.w3.org/2000/09/xmldsig#'><KeyValue><x/></KeyValue></KeyInfo></iq>`,
  );
  const kv = iq.getChild('KeyInfo')!.getChild('KeyValue')!;
  assert.equal(
    canonicalize(kv),
    '<KeyValue xmlns="http://www.w3.org/2000/09/xmldsig#" xmlns:foo="urn:foo" xml:lang="en"><x></x></KeyValue>',
  );
  assert.equal(canonicalize(kv, { mode: 'exclusive' }), '<KeyValue xmlns="http://www.w3.org/2000/09/xmldsig#"><x></x></KeyValue>');
  // A detached copy keeps its namespace even though the declaration was on the old parent.
  assert.equal(canonicalize(kv.clone(), { mode: 'exclusive' }), '<KeyValue xmlns="http://www.w3.org/2000/09/xmldsig#"><x></x></KeyValue>');
});

test('prefixed elements declare their prefix once; attribute order is by namespace URI then local name', () => {
  const el = parseXml(`<ds:a xmlns:ds='urn:d' xmlns:z='urn:a' z:b='1' c='2'><ds:b/></ds:a>`);
  assert.equal(canonicalize(el), '<ds:a xmlns:ds="urn:d" xmlns:z="urn:a" c="2" z:b="1"><ds:b></ds:b></ds:a>');
  assert.equal(canonicalize(el, { mode: 'exclusive' }), '<ds:a xmlns:ds="urn:d" xmlns:z="urn:a" c="2" z:b="1"><ds:b></ds:b></ds:a>');
});

test('withoutInterElementText keeps leaf text and drops whitespace between elements', () => {
  const el = parseXml(`<a xmlns='urn:x'>\n  <b> keep me </b>\n  <c>\n    <d>1</d>\n  </c>\n</a>`);
  assert.equal(canonicalize(withoutInterElementText(el)), '<a xmlns="urn:x"><b> keep me </b><c><d>1</d></c></a>');
});
