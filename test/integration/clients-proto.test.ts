import { createFileRegistry, fromBinary, fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { environments } from '../../core/model/collection.js';
import { payloadProto } from '../../core/model/decode-collection-protobuf.js';
import { startFerry, type FerryProcess } from '../support/ferry-process.js';
import { fixtureJson, repoPath } from '../support/fixtures.js';
import { encodeCollection } from '../support/protobuf-encoder.js';
import { postTrack } from '../support/http-client.js';
import { collect, readObject } from '../support/streams.js';

const shipped = readFileSync(repoPath('proto/payload.proto'), 'utf8');

interface FieldShape {
  name: string;
  id: number;
  type: string;
  rule: string;
}

/** Messages and enums of a .proto as plain data, as protobufjs's parser (not the decoder) reads them. */
function shapeOf(text: string) {
  const parsed = protobuf.parse(text, { keepCase: true });
  const ns = parsed.root.lookup(parsed.package!) as protobuf.Namespace;
  const messages: Record<string, FieldShape[]> = {};
  const enums: Record<string, Record<string, number>> = {};
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) {
      messages[nested.name] = nested.fieldsArray.map((f) => ({ name: f.name, id: f.id, type: f.type, rule: f.repeated ? 'repeated' : f.required ? 'required' : 'optional' }));
    } else if (nested instanceof protobuf.Enum) enums[nested.name] = { ...nested.values };
  }
  return { package: parsed.package, syntax: text.match(/syntax = "(proto\d)"/)?.[1], messages, enums };
}

const scalarTypes: Record<string, string> = { string: 'TYPE_STRING', uint64: 'TYPE_UINT64', uint32: 'TYPE_UINT32' };

/** The shipped file as a FileDescriptorProto, so @bufbuild/protobuf's own runtime decodes with it. */
function registryOf(shape: ReturnType<typeof shapeOf>) {
  const field = (f: FieldShape) => ({
    name: f.name,
    number: f.id,
    label: `LABEL_${f.rule.toUpperCase()}`,
    ...(scalarTypes[f.type] ? { type: scalarTypes[f.type] } : { type: f.type in shape.enums ? 'TYPE_ENUM' : 'TYPE_MESSAGE', typeName: `.${shape.package}.${f.type}` }),
  });
  const json = {
    name: 'payload.proto',
    package: shape.package!,
    syntax: 'proto2',
    messageType: Object.entries(shape.messages).map(([name, fields]) => ({ name, field: fields.map(field) })),
    enumType: Object.entries(shape.enums).map(([name, values]) => ({ name, value: Object.entries(values).map(([n, number]) => ({ name: n, number })) })),
  };
  // The FileDescriptorProto protoc would emit for the file, in its JSON form.
  return createFileRegistry(fromJson(FileDescriptorProtoSchema, json as unknown as JsonValue), () => undefined);
}

describe('proto/payload.proto, the wire schema as a file', () => {
  it('declares, field by field, the schema the collector\'s decoder embeds (names, numbers, types, rules, enum values)', () => {
    const file = shapeOf(shipped);
    expect(file).toEqual(shapeOf(payloadProto));
    // And what the decoder's plain model names: every environment in order.
    expect(Object.keys(file.enums.Environment!)).toEqual([...environments]);
    expect(file.syntax).toBe('proto2');
  });

  describe('a body the collector accepted', () => {
    let dir: string;
    let ferry: FerryProcess;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ferry-proto-'));
      ferry = await startFerry({ FERRY_DATA_DIR: dir, FERRY_LOAD_INTERVAL_S: '3600', FERRY_LOG_LEVEL: 'error' });
    }, 90_000);
    afterAll(async () => {
      if (ferry) {
        ferry.child.kill('SIGTERM');
        await new Promise((done) => ferry.child.once('exit', done));
      }
      await rm(dir, { recursive: true, force: true });
    });

    it.each(['ios-two-events', 'android-env-number'])('%s: decoded by @bufbuild/protobuf with the shipped file, equals what the collector stored', async (name) => {
      const body = encodeCollection(fixtureJson(`collections/${name}.json`));
      expect(await postTrack(ferry.url, body, { 'content-type': 'application/protobuf' })).toBe(200);

      const registry = registryOf(shapeOf(shipped));
      const collection = registry.getMessage('payload.Collection')!;
      const decoded = toJson(collection, fromBinary(collection, body), { useProtoFieldName: true, enumAsInteger: true }) as Record<string, unknown>;

      const store = new FsBlobStore(join(dir, 'store'));
      const stored: Record<string, unknown>[] = [];
      for (const item of await collect(store.list('raw/events/'))) {
        for (const line of gunzipSync(await readObject(store, item.key)).toString('utf8').split('\n')) if (line) stored.push(JSON.parse(line).collection);
      }
      const mine = stored.find((c) => c.session === decoded.session);
      expect(mine).toBeDefined();
      // protobuf JSON omits empty repeated fields; the collector writes `parameters: []`.
      const payloads = (decoded.payloads as Record<string, unknown>[]).map((p) => ({ parameters: [], ...p }));
      expect({ ...decoded, payloads }).toEqual(mine);
    });
  });
});
