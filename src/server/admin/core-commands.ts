// The admin commands of the core itself: status and the account lifecycle (delete, password change, ending
// a login lockout). Modules add theirs through ModuleApi.adminCommand (e.g. roster/admin.ts).
import { z } from 'zod';
import type { XmppServer } from '../core/server.ts';
import { accountJid, credentials } from './args.ts';
import { AdminError } from './errors.ts';
import { serverStatus } from './status.ts';

export function registerCoreAdminCommands(server: XmppServer): void {
  const { admin } = server;
  admin.register('status', z.strictObject({}), () => serverStatus(server));
  // `pepkeys cluster status`: this node's view of the cluster (docs/cluster.md); off = one node, no bus.
  admin.register('cluster.status', z.strictObject({}), () => server.cluster?.status() ?? { node: undefined, bus: 'off', nodes: [] });

  admin.register('user.del', z.strictObject({ jid: accountJid }), async ({ jid }) => {
    const r = await server.accounts.delete(jid);
    if (!r) throw new AdminError('not-found', `no account ${jid}`);
    return r;
  });

  admin.register('user.passwd', z.strictObject({ jid: accountJid, credentials }), async ({ jid, credentials }) => {
    const r = await server.accounts.changePassword(jid, credentials);
    if (!r) throw new AdminError('not-found', `no account ${jid}`);
    return r;
  });

  // An IP address or a bare JID, as the throttle counts them (not validated further: nothing to find).
  admin.register('user.unlock', z.strictObject({ target: z.string().min(1).max(3071) }), ({ target }) => {
    let key = target;
    const at = target.indexOf('@');
    if (at > 0) key = accountJid.safeParse(target).data ?? target;
    return { target: key, failures: server.authThrottle.unlock(key) };
  });
}
