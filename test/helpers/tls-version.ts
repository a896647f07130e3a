// A test server whose TLS ceiling is one version (every client here speaks 1.3, so TLSv1.3 is what they get
// unless the ceiling is 1.2). The server's TLS settings fix only the floor (1.2); the ceiling is Node's
// default, read when a secure context or TLS server is made, so it is lowered while the server is built and
// started, then restored, leaving the clients of the test process unrestricted.
import tls from 'node:tls';
import { startTestServer, type TestServer, type TestServerOptions } from './server.ts';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export async function startTestServerAt(version: TlsVersion, opts: TestServerOptions): Promise<TestServer> {
  const max = tls.DEFAULT_MAX_VERSION;
  tls.DEFAULT_MAX_VERSION = version;
  try {
    return await startTestServer(opts);
  } finally {
    tls.DEFAULT_MAX_VERSION = max;
  }
}
