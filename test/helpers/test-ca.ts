// A certificate authority made in the test, and server certificates it issues (@peculiar/x509, as
// `pepkeys cert generate` does): DNS-IDs, SRV-IDs and XmppAddrs (otherNames, DER-encoded here since the
// library only builds the common name types), validity dates, so tests cover XEP-0178 / RFC 6125 cases.
import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { TlsCredentials } from '../../src/server/core/tls-credentials.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 86400_000;

export interface IssueOptions {
  dns?: string[];
  /** SRV-IDs, e.g. "_xmpp-server.capulet.lit". */
  srv?: string[];
  xmppAddr?: string[];
  cn?: string;
  notBefore?: Date;
  notAfter?: Date;
}

export interface TestCa {
  /** The CA certificate (PEM) and a file holding it, for `s2s.trusted_certs` / Prosody's cafile. */
  cert: string;
  file: string;
  dir: string;
  issue(o: IssueOptions): Promise<TlsCredentials>;
  cleanup(): void;
}

function tlv(tag: number, body: Buffer): Buffer {
  const l = body.length;
  const len = l < 0x80 ? Buffer.from([l]) : l < 0x100 ? Buffer.from([0x81, l]) : Buffer.from([0x82, l >> 8, l & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

// id-on-dnsSRV 1.3.6.1.5.5.7.8.7 (IA5String) and id-on-xmppAddr 1.3.6.1.5.5.7.8.5 (UTF8String).
const OID_SRV = Buffer.from([0x2b, 6, 1, 5, 5, 7, 8, 7]);
const OID_XMPP = Buffer.from([0x2b, 6, 1, 5, 5, 7, 8, 5]);
const otherName = (oid: Buffer, tag: number, value: string) => tlv(0xa0, Buffer.concat([tlv(0x06, oid), tlv(0xa0, tlv(tag, Buffer.from(value)))]));

function subjectAltName(o: IssueOptions): x509.Extension {
  const names = [
    ...(o.dns ?? []).map((d) => tlv(0x82, Buffer.from(d))),
    ...(o.srv ?? []).map((s) => otherName(OID_SRV, 0x16, s)),
    ...(o.xmppAddr ?? []).map((s) => otherName(OID_XMPP, 0x0c, s)),
  ];
  return new x509.Extension('2.5.29.17', false, tlv(0x30, Buffer.concat(names)));
}

const pkcs8Pem = async (key: webcrypto.CryptoKey) => {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as any));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
};

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1');

export async function createTestCa(name = 'pepkeys test CA'): Promise<TestCa> {
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 30 * DAY),
    signingAlgorithm: alg,
    keys: caKeys as any,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as any),
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'pepkeys-test-ca-'));
  const cert = caCert.toString('pem') + '\n';
  const file = join(dir, 'ca.pem');
  writeFileSync(file, cert);
  return {
    cert,
    file,
    dir,
    async issue(o) {
      const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${o.cn ?? o.dns?.[0] ?? 'server'}`,
        issuer: caCert.subject,
        notBefore: o.notBefore ?? new Date(Date.now() - DAY),
        notAfter: o.notAfter ?? new Date(Date.now() + 7 * DAY),
        signingAlgorithm: alg,
        publicKey: keys.publicKey as any,
        signingKey: caKeys.privateKey as any,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
          // Server streams are TLS servers and clients both (RFC 6120 §13.7.1.2).
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey as any),
          ...(o.dns?.length || o.srv?.length || o.xmppAddr?.length ? [subjectAltName(o)] : []),
        ],
      });
      // The chain (leaf, then CA) so a peer that knows only the CA can build it.
      return { cert: `${leaf.toString('pem')}\n${cert}`, key: await pkcs8Pem(keys.privateKey) };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** "sha256:AB:CD:..." of a PEM certificate (the first of a chain), as `s2s.trusted_certs` pins it. */
export function pinOf(pem: string): string {
  return `sha256:${new X509Certificate(pem).fingerprint256}`;
}
