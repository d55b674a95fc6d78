import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { environments } from '../../core/model/collection.js';

/**
 * Encodes a JSON-form collection as Hamustro's protobuf `Collection` with @bufbuild/protobuf's
 * wire writer: an encoder independent of the decoder under test (protobufjs), so a shared bug
 * cannot hide. Field numbers follow `proto/payload.proto`.
 */
export function encodeCollection(c: Record<string, unknown>): Uint8Array {
  const w = new BinaryWriter();
  const str = (field: number, value: unknown) => {
    if (typeof value === 'string') w.tag(field, WireType.LengthDelimited).string(value);
  };
  str(1, c.device_id);
  str(2, c.client_id);
  str(3, c.session);
  str(4, c.system_version);
  str(5, c.product_version);
  const env = typeof c.env === 'number' ? c.env : environments.indexOf(c.env as (typeof environments)[number]);
  if (c.env !== undefined) w.tag(6, WireType.Varint).int32(env);
  ['device_make', 'device_model', 'system', 'system_language', 'browser', 'browser_version', 'product_git_hash', 'product_language'].forEach((name, i) => str(7 + i, c[name]));
  for (const p of (c.payloads ?? []) as Record<string, unknown>[]) {
    w.tag(15, WireType.LengthDelimited).fork();
    w.tag(1, WireType.Varint).uint64(BigInt(p.at as string | number));
    str(2, p.event);
    w.tag(3, WireType.Varint).uint32(Number(p.nr));
    ['timezone', 'tenant_id', 'user_id', 'ip', 'country'].forEach((name, i) => str(4 + i, p[name]));
    for (const q of (p.parameters ?? []) as { name: string; value: string }[]) {
      w.tag(9, WireType.LengthDelimited).fork();
      str(1, q.name);
      str(2, q.value);
      w.join();
    }
    w.join();
  }
  return w.finish();
}
