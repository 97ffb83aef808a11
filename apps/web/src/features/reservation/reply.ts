import { decodeMessage, openConfirm, openEnvelope, type OpenedReply } from '@qpc/fapp';
import { kemPublicKey } from '@qpc/crypto';
import { FappKind, SlotConfirmSchema } from '@qpc/proto';
import { mailboxIdFromCapability } from '@qpc/fapp';
import { type ReservationSecrets } from './fragment';

/**
 * Opens the therapist's signed, sealed answer from the mailbox. The signature, therapist,
 * slot, mailbox and sealed decision are all checked by `openConfirm`. Its 24-hour freshness
 * rule is meant for nodes accepting commands; a patient may read their answer days later,
 * so the check is evaluated at the answer's own (signed) issue time.
 */
export async function openReply(bytes: Uint8Array, secrets: ReservationSecrets): Promise<OpenedReply> {
  const body = decodeMessage(SlotConfirmSchema, openEnvelope(bytes, FappKind.SLOT_CONFIRM).body);
  const issuedAtMs = Number(body.issuedAtMs);
  const replyKeyPair = { publicKey: kemPublicKey(secrets.replySecretKey), secretKey: secrets.replySecretKey };
  return openConfirm(
    bytes,
    { therapistKey: secrets.therapistKey, slotId: secrets.slotId, mailboxId: mailboxIdFromCapability(secrets.capability), replyKeyPair },
    Math.min(Date.now(), issuedAtMs),
  );
}
