// The cluster contract on the in-process bus (several nodes of one process on one hub).
import { LocalBusHub } from '../../src/cluster/index.ts';
import { busContract } from './contract/bus-contract.ts';
import { directoryContract } from './contract/directory-contract.ts';

const hub = new LocalBusHub();
const fabric = () => ({ connect: async () => hub.connect() });
busContract('in-process', fabric);
directoryContract('in-process', fabric);
