import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { hamustroSignature } from '../../core/collector/signature.js';
import { sessionId } from '../../core/collector/session.js';

/**
 * One signed protobuf collection as Hamustro's clients send it: 1–25 payloads, 0–4 parameters
 * each, from device `i` (so its own session); `turn` is how many it sent before in that session
 * (their `nr` come before this one's).
 */
export function hamustroBody(i: number, turn = 0): { body: Buffer; events: number } {
  const w = new BinaryWriter();
  const device = `bench-device-${i}`;
  const c = { device_id: device, client_id: 'bench-client', system_version: '10.2', product_version: '3.19.4', env: 0 };
  w.tag(1, WireType.LengthDelimited).string(c.device_id).tag(2, WireType.LengthDelimited).string(c.client_id);
  w.tag(3, WireType.LengthDelimited).string(sessionId(c)).tag(4, WireType.LengthDelimited).string(c.system_version);
  w.tag(5, WireType.LengthDelimited).string(c.product_version).tag(6, WireType.Varint).int32(0);
  w.tag(7, WireType.LengthDelimited).string('Apple').tag(9, WireType.LengthDelimited).string('iOS');
  const events = 1 + (i % 25);
  for (let n = 0; n < events; n++) {
    w.tag(15, WireType.LengthDelimited).fork();
    w.tag(1, WireType.Varint).uint64(BigInt(1479898800 + n)).tag(2, WireType.LengthDelimited).string(`Task.Action${n % 7}`);
    w.tag(3, WireType.Varint).uint32(turn * 25 + n + 1).tag(4, WireType.LengthDelimited).string('Europe/Berlin');
    w.tag(6, WireType.LengthDelimited).string(`user-${i}`);
    for (let p = 0; p < (i + n) % 5; p++) {
      w.tag(9, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(`param${p}`).tag(2, WireType.LengthDelimited).string(`value-${p}-${n}`).join();
    }
    w.join();
  }
  return { body: Buffer.from(w.finish()), events };
}

/** autocannon requests posting `bodies` to /api/v1/track, signed with `secret` for the current second. */
export function signedTrackRequests(bodies: { body: Buffer }[], secret: string) {
  const time = String(Math.floor(Date.now() / 1000));
  return bodies.map(({ body }) => ({
    method: 'POST' as const,
    path: '/api/v1/track',
    headers: { 'content-type': 'application/protobuf', 'x-hamustro-time': time, 'x-hamustro-signature': hamustroSignature(time, body, secret) },
    body,
  }));
}
