import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { describeBlobStoreContract } from '../support/blob-store-contract.js';

describeBlobStoreContract('in memory', async () => ({ store: new MemoryBlobStore(), dispose: async () => {} }));
