import { createMemoryStorage } from '../../src/storage/memory/index.ts';
import { storageContract } from '../contract/storage-contract.ts';

storageContract('memory', () => createMemoryStorage());
