import { create, toBinary } from '@bufbuild/protobuf';
import { FappKind, FappSignedSchema } from '@qpc/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyAnnounce } from './announce.js';
import { applyRevocationList, verifyAttestation } from './attestation.js';
import { forwardEnvelope, openEnvelope } from './envelope.js';
import { FappError } from './errors.js';
import { decodeQuery } from './query.js';
import { openConfirm, openReservation, verifyConfirm, verifyPatientCancel, verifyReservation, verifyTherapistRelease } from './reservation.js';
import { announceBytes, kemFor, NOW, therapist, trust } from './test/fixtures.js';

const replyKeyPair = kemFor('patient');
const reservationRef = { therapistKey: therapist.publicKey, slotId: new Uint8Array(16), mailboxId: new Uint8Array(32), replyKeyPair };

// Every decoder that takes bytes from the network.
const syncDecoders: Record<string, (b: Uint8Array) => unknown> = {
  openEnvelope: (b) => openEnvelope(b, FappKind.SLOT_ANNOUNCE),
  forwardEnvelope,
  verifyAnnounce: (b) => verifyAnnounce(b, { nowMs: NOW, trust }),
  verifyAttestation: (b) => verifyAttestation(b, therapist.publicKey, trust, NOW),
  applyRevocationList: (b) => applyRevocationList(trust, b, NOW),
  decodeQuery,
  verifyReservation: (b) => verifyReservation(b, { nowMs: NOW, difficultyBits: 1, lookup: () => undefined }),
  verifyConfirm: (b) => verifyConfirm(b, NOW),
  verifyTherapistRelease: (b) => verifyTherapistRelease(b, NOW),
  verifyPatientCancel: (b) => verifyPatientCancel(b, NOW),
};
const asyncDecoders: Record<string, (b: Uint8Array) => Promise<unknown>> = {
  openReservation: (b) => openReservation(b, kemFor('therapist').secretKey),
  openConfirm: (b) => openConfirm(b, reservationRef, NOW),
};

function onlyFappError(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof FappError)) throw e;
  }
}

// Random bytes, plus mutations of a valid announce (which reach deeper than noise does).
const valid = announceBytes();
const inputs = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
    const b = valid.slice();
    b[i]! ^= x;
    return b;
  }),
  fc.nat(valid.length).map((n) => valid.subarray(0, n)),
  // A well-formed envelope around random body bytes.
  fc.tuple(fc.integer({ min: 0, max: 6 }), fc.uint8Array({ maxLength: 512 }), fc.uint8Array({ maxLength: 64 })).map(([kind, body, sig]) =>
    toBinary(FappSignedSchema, create(FappSignedSchema, { kind, body, signerKey: therapist.publicKey, signature: sig })),
  ),
);

describe('decoders on hostile bytes throw only FappError', () => {
  for (const [name, decode] of Object.entries(syncDecoders)) {
    it(name, () => {
      fc.assert(fc.property(inputs, (b) => onlyFappError(() => decode(b))), { numRuns: 400 });
    });
  }
  for (const [name, decode] of Object.entries(asyncDecoders)) {
    it(name, async () => {
      await fc.assert(
        fc.asyncProperty(inputs, async (b) => {
          try {
            await decode(b);
          } catch (e) {
            if (!(e instanceof FappError)) throw e;
          }
        }),
        { numRuns: 60 },
      );
    });
  }

  it('a single flipped bit anywhere in a signed announce never verifies with changed content', () => {
    fc.assert(
      fc.property(fc.nat(valid.length * 8 - 1), (bit) => {
        const b = valid.slice();
        b[bit >> 3]! ^= 1 << (bit & 7);
        let accepted: ReturnType<typeof verifyAnnounce> | undefined;
        try {
          accepted = verifyAnnounce(b, { nowMs: NOW, trust });
        } catch (e) {
          expect(e).toBeInstanceOf(FappError);
        }
        // Only the unsigned hop count may change without breaking the signature.
        if (accepted) expect(accepted.body).toEqual(verifyAnnounce(valid, { nowMs: NOW, trust }).body);
      }),
      { numRuns: 300 },
    );
  });
});
