import protobuf from 'protobufjs';
import { InvalidInputError } from '../errors.js';
import type { Collection } from './collection.js';
import { decodeCollectionJson } from './decode-collection-json.js';

/** Hamustro's current wire schema (`proto/payload.proto`, PR #14), proto2. */
export const payloadProto = `
syntax = "proto2";
package payload;
option objc_class_prefix = "HAM";

enum Environment {
  PRODUCTION = 0; GENERAL_AVAILABILITY = 1; RELEASE_TO_MARKETING = 2; RELEASE_CANDIDATE = 3;
  BETA = 4; ALPHA = 5; WEEKLY = 6; NIGHTLY = 7; STAGING = 8; QUALITY_ASSURANCE = 9;
  TESTING = 10; DEVELOPMENT = 11;
}

message Parameter {
  required string name = 1;
  required string value = 2;
}

message Payload {
  required uint64 at = 1;
  required string event = 2;
  required uint32 nr = 3;
  optional string timezone = 4;
  optional string tenant_id = 5;
  optional string user_id = 6;
  optional string ip = 7;
  optional string country = 8;
  repeated Parameter parameters = 9;
}

message Collection {
  required string device_id = 1;
  required string client_id = 2;
  required string session = 3;
  required string system_version = 4;
  required string product_version = 5;
  required Environment env = 6;
  optional string device_make = 7;
  optional string device_model = 8;
  optional string system = 9;
  optional string system_language = 10;
  optional string browser = 11;
  optional string browser_version = 12;
  optional string product_git_hash = 13;
  optional string product_language = 14;
  repeated Payload payloads = 15;
}
`;

const collectionType = protobuf.parse(payloadProto, { keepCase: true }).root.lookupType('payload.Collection');

/**
 * Decodes a protobuf `Collection` (proto2: missing required fields are refused) into the same
 * validated shape as the JSON decoder. Throws `InvalidInputError` naming the problem.
 */
export function decodeCollectionProtobuf(bytes: Uint8Array): Collection {
  let message: protobuf.Message;
  try {
    message = collectionType.decode(bytes);
  } catch (err) {
    const missing = /missing required '([^']+)'/.exec((err as Error).message);
    if (missing) throw new InvalidInputError(`${missing[1]}: is required`, { field: missing[1] });
    throw new InvalidInputError(`malformed protobuf body: ${(err as Error).message}`);
  }
  // Longs as decimal strings keep all 64 bits of `at`; the JSON validator then applies the same rules.
  const object = collectionType.toObject(message, { longs: String, enums: Number, defaults: false, arrays: true });
  return decodeCollectionJson(object);
}
