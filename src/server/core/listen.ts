// Binding a listener (TCP, TLS or HTTP: all are net.Server) to HOST:PORT, once for every kind.
import type { AddressInfo, Server } from 'node:net';
import { parseHostPort } from '../config.ts';

/** Resolves with the bound address, or rejects when it cannot bind (address in use); later errors go to onError. */
export function listenOn(srv: Server, hostPort: string, onError: (err: Error) => void): Promise<AddressInfo> {
  const { host, port } = parseHostPort(hostPort);
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => {
      srv.off('error', reject);
      srv.on('error', onError);
      resolve(srv.address() as AddressInfo);
    });
  });
}
