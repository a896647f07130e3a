// XEP-0199 XMPP Ping: the server answers pings to its domains and, on the account's behalf, to bare JIDs.
import { defineModule } from '../../core/module-host.ts';
import { NS_PING } from '../../../protocol/xep0199.ts';
import { StanzaError } from '../../../protocol/rfc6120.ts';

export const pingModule = defineModule({
  name: 'ping',
  setup(api) {
    const handler = ({ type }: { type: string }) => {
      if (type !== 'get') throw new StanzaError('bad-request', 'ping is an IQ get');
    };
    api.handleIq('host', NS_PING, handler);
    api.handleIq('account', NS_PING, handler);
    api.addFeature('host', NS_PING);
    api.addFeature('account', NS_PING);
  },
});
