// XEP-0092 Software Version for the server's domains. The OS is not disclosed (XEP-0092 §4 leaves it optional).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { x } from '../../../xml/index.ts';
import { defineModule } from '../../core/module-host.ts';
import { NS_VERSION } from '../../../protocol/xep0092.ts';
import { StanzaError } from '../../../protocol/rfc6120.ts';

const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };

export const SERVER_NAME = 'pepkeys';
export const SERVER_VERSION = pkg.version;

export const versionModule = defineModule({
  name: 'version',
  options: z.strictObject({ hide: z.boolean().prefault(false) }),
  setup(api) {
    if (api.options.hide) return;
    api.handleIq('host', NS_VERSION, ({ type }) => {
      if (type !== 'get') throw new StanzaError('bad-request');
      return x('query', { xmlns: NS_VERSION }, x('name', null, SERVER_NAME), x('version', null, SERVER_VERSION));
    });
    api.addFeature('host', NS_VERSION);
  },
});
