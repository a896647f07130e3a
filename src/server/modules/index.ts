// The modules a server loads by default, in no particular order (requirements order them).
import type { ModuleDefinition } from '../core/module-host.ts';
import { blockingModule } from './blocking/index.ts';
import { capsModule } from './caps/index.ts';
import { carbonsModule } from './carbons/index.ts';
import { discoModule } from './disco/index.ts';
import { mamModule } from './mam/index.ts';
import { offlineModule } from './offline/index.ts';
import { pepModule } from './pep/index.ts';
import { pingModule } from './ping/index.ts';
import { presenceModule } from './presence/index.ts';
import { privateModule } from './private/index.ts';
import { rosterModule } from './roster/index.ts';
import { rosterAdminModule } from './roster/admin.ts';
import { versionModule } from './version/index.ts';

export function defaultModules(): ModuleDefinition[] {
  return [discoModule, pingModule, versionModule, capsModule, rosterModule, rosterAdminModule, presenceModule, offlineModule, pepModule, privateModule, mamModule, carbonsModule, blockingModule];
}

export { blockingModule, capsModule, carbonsModule, discoModule, mamModule, offlineModule, pepModule, pingModule, presenceModule, privateModule, rosterAdminModule, rosterModule, versionModule };
