// Which certificate and key the server serves for a configuration: the files tls.cert and tls.key name, or
// else the pair in data_dir/tls (generated at first start, or by `pepkeys cert generate|import`).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ServerConfig } from '../../server/config.ts';
import { generatedTlsFiles } from '../../server/core/tls-credentials.ts';
import { describeError } from '../errors.ts';
import { judgePair, readPair } from './certificate.ts';
import { error, ok, type Finding } from './findings.ts';

export interface ServedTls {
  cert: string;
  key: string;
  /** tls.cert and tls.key are set: the operator manages those files, pepkeys does not write them. */
  configured: boolean;
  /** How messages name the files: with their setting when configured. */
  certWhat: string;
  keyWhat: string;
}

export function servedTls(config: ServerConfig): ServedTls {
  if (config.tls.cert !== undefined && config.tls.key !== undefined) {
    return {
      cert: resolve(config.tls.cert),
      key: resolve(config.tls.key),
      configured: true,
      certWhat: `tls.cert "${config.tls.cert}"`,
      keyWhat: `tls.key "${config.tls.key}"`,
    };
  }
  const files = generatedTlsFiles(resolve(config.data_dir));
  return { cert: files.cert, key: files.key, configured: false, certWhat: files.cert, keyWhat: files.key };
}

export function renewAdvice(tls: ServedTls): string {
  return tls.configured
    ? `replace the files ${tls.certWhat} and ${tls.keyWhat} name with a certificate`
    : 'run `pepkeys cert generate` (self-signed), or `pepkeys cert import CERT KEY` for a certificate';
}

/** `pepkeys check`'s certificate findings. */
export function checkServedCertificate(config: ServerConfig): Finding[] {
  const tls = servedTls(config);
  if (!tls.configured && !existsSync(tls.cert) && !existsSync(tls.key)) {
    return [ok('certificate', `no certificate yet: the server generates a self-signed one for ${config.hosts.join(', ')} in ${generatedTlsFiles(resolve(config.data_dir)).dir} at its first start`)];
  }
  try {
    return judgePair(readPair(tls.cert, tls.key, tls.certWhat, tls.keyWhat), config.hosts, { uncovered: 'error', renew: renewAdvice(tls) });
  } catch (err) {
    return [error('certificate', describeError(err))];
  }
}
