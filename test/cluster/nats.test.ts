// The cluster contract on NATS: a real nats-server started for this file.
import { after, before } from 'node:test';
import { connectNatsBus } from '../../src/cluster/nats/nats-bus.ts';
import { startNats, type NatsServer } from '../helpers/nats.ts';
import { busContract } from './contract/bus-contract.ts';
import { directoryContract } from './contract/directory-contract.ts';

let nats: NatsServer | undefined;
before(async () => {
  nats = await startNats();
});
after(() => nats?.close());
const fabric = () => ({ connect: () => connectNatsBus({ url: nats!.url }) });
busContract('NATS', fabric);
directoryContract('NATS', fabric);
