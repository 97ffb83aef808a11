import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { concatBytes, utf8 } from '@qpc/crypto';
import { MeshError, meshFail } from './errors.js';

/** Decodes protobuf bytes; every failure (wrong type, too long, bad wire data) is a MeshError. */
export function decodeMesh<Desc extends DescMessage>(schema: Desc, bytes: unknown, maxBytes: number): MessageShape<Desc> {
  if (!(bytes instanceof Uint8Array)) meshFail('MALFORMED', 'expected bytes');
  if (bytes.length > maxBytes) meshFail('TOO_LARGE', `${schema.typeName} of ${bytes.length} bytes exceeds ${maxBytes}`);
  try {
    return fromBinary(schema, bytes);
  } catch (e) {
    if (e instanceof MeshError) throw e;
    return meshFail('MALFORMED', `cannot decode ${schema.typeName}`, e);
  }
}

export function encodeMesh<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array {
  return toBinary(schema, message);
}

/** uint64 from the wire as a JS number; values beyond 2^53 - 1 are malformed. */
export function u64(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) meshFail('MALFORMED', `${field} exceeds 2^53 - 1`);
  return Number(value);
}

export function expectLength(b: Uint8Array, len: number, field: string, code: 'MALFORMED' | 'INVALID_KEY' = 'MALFORMED'): Uint8Array {
  if (b.length !== len) meshFail(code, `${field} must be ${len} bytes, got ${b.length}`);
  return b;
}

/** "qpc-mesh-v1/" + tag + 0x00 + data: each signed kind has its own domain. */
export function meshSigningInput(tag: string, ...data: Uint8Array[]): Uint8Array {
  return concatBytes(utf8(`qpc-mesh-v1/${tag}\u0000`), ...data);
}

export function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}
