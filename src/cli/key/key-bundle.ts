// The text format of `key export --secret` and `key import`: per key a header line, the <pubkey/> as published
// (it carries the JID and validity that the private key alone does not) and the private key's PEM as stored,
// encrypted or not. PEM readers skip other text, so `openssl pkey -in FILE` reads the first key of an export.
//
//   pepkeys-key: juliet@capulet.lit sha-256:<hex> current
//   <pubkey xmlns='urn:xmpp:pubkey:2'>…</pubkey>
//   -----BEGIN ENCRYPTED PRIVATE KEY-----
//   …
//   -----END ENCRYPTED PRIVATE KEY-----
import { CliError } from '../errors.ts';

export type BundleStatus = 'current' | 'old' | 'revoked';

export interface BundleEntry {
  /** From the header line, when there is one. */
  jid?: string;
  status?: BundleStatus;
  /** The <pubkey/> element's text, when present (a bare PEM from elsewhere has none). */
  pubkeyXml?: string;
  pem: string;
}

const HEADER = /^pepkeys-key: (\S+) (\S+) (current|old|revoked)[ \t]*$/;

export function formatBundle(entries: { jid: string; fingerprint: string; status: BundleStatus; pubkeyXml: string; pem: string }[]): string {
  return entries.map((e) => `pepkeys-key: ${e.jid} ${e.fingerprint} ${e.status}\n${e.pubkeyXml.trim()}\n${e.pem.trim()}\n`).join('\n');
}

/** Splits an export (or a lone PEM private key, with or without a <pubkey/>) into its keys. */
export function parseBundle(text: string): BundleEntry[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const blocks: { header?: RegExpExecArray; body: string[] }[] = [];
  for (const line of lines) {
    const h = HEADER.exec(line);
    if (h) blocks.push({ header: h, body: [] });
    else if (blocks.length === 0) blocks.push({ body: [line] });
    else blocks.at(-1)!.body.push(line);
  }
  const entries: BundleEntry[] = [];
  for (const [i, b] of blocks.entries()) {
    const body = b.body.join('\n');
    const pem = /-----BEGIN ((?:ENCRYPTED |RSA |EC )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/.exec(body)?.[0];
    if (!pem) {
      if (!b.header && body.trim() === '') continue;
      throw new CliError(`${b.header ? `key ${i + 1} (${b.header[2]})` : 'the file'} holds no PEM private key; \`key import\` reads what \`pepkeys key export --secret\` writes, or a PEM private key`);
    }
    const xml = /<pubkey[\s>][\s\S]*?<\/pubkey>/.exec(body)?.[0];
    entries.push({ pem: `${pem}\n`, ...(xml ? { pubkeyXml: xml } : {}), ...(b.header ? { jid: b.header[1]!, status: b.header[3] as BundleStatus } : {}) });
  }
  if (entries.length === 0) throw new CliError('the file holds no key');
  return entries;
}
