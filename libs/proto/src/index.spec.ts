import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { SignedSchema } from './index.js';

describe('generated schema', () => {
  it('round-trips a Signed wrapper byte for byte', () => {
    const msg = create(SignedSchema, {
      body: new Uint8Array([1, 2, 3]),
      signerKey: new Uint8Array(32).fill(7),
      signature: new Uint8Array(64).fill(9),
    });
    const bytes = toBinary(SignedSchema, msg);
    const back = fromBinary(SignedSchema, bytes);
    expect(back.body).toEqual(msg.body);
    expect(toBinary(SignedSchema, back)).toEqual(bytes);
  });

  it('rejects truncated bytes with the library error', () => {
    const bytes = toBinary(SignedSchema, create(SignedSchema, { body: new Uint8Array(10) }));
    expect(() => fromBinary(SignedSchema, bytes.subarray(0, bytes.length - 3))).toThrow();
  });
});
