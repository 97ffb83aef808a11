// Seals the reservation and mints its proof-of-work stamp off the main thread, so the page
// stays responsive and the patient can cancel. Cancelling terminates the worker.
import { createReservation, isFappError, openEnvelope, validateAnnounceBody } from '@qpc/fapp';
import { FappKind } from '@qpc/proto';
import { type ReserveReply, type ReserveRequest } from './reserve-protocol';

const post = (reply: ReserveReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(reply, transfer);

self.addEventListener('message', (event: MessageEvent<ReserveRequest>) => {
  const req = event.data;
  if (req?.type !== 'reserve') return;
  void (async () => {
    try {
      const env = openEnvelope(req.announce, FappKind.SLOT_ANNOUNCE);
      const announce = validateAnnounceBody(env.body, env.signerKey, req.nowMs);
      const r = await createReservation({
        announce,
        slotId: req.slotId,
        contact: req.contact,
        message: req.message,
        difficultyBits: req.difficultyBits,
        nowMs: req.nowMs,
        onProgress: (tries) => post({ type: 'progress', tries }),
      });
      post({
        type: 'done',
        reservation: r.bytes,
        capability: r.mailboxCapability,
        replySecretKey: r.replyKeyPair.secretKey,
        therapistKey: r.therapistKey,
        slotId: r.slotId,
      });
    } catch (e) {
      const code = isFappError(e) ? `fapp.${e.code.toLowerCase()}` : 'generic';
      post({ type: 'error', code, message: e instanceof Error ? e.message : String(e) });
    }
  })();
});
