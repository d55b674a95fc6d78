export { FerryClient, parseRetryAfter, type CollectionDetails, type DropReason, type FerryClientOptions, type ParameterValues, type RetryInfo, type TrackOptions } from './client.js';
export { environmentNumber, environments, sessionId, signature, signatureHeaders, type Collection, type CollectionHeader, type Environment, type Parameter, type Payload } from './protocol.js';
export { md5Hex } from './md5.js';
export { sha256, sha256Hex } from './sha256.js';
export { defaultStorage, memoryStorage, type KeyValueStorage } from './storage.js';
