import { type AnnounceInput } from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet } from '@qpc/proto';

/**
 * A plain therapist profile (Verhaltenstherapie for adults, Praxis, GKV, 10115, German) with the
 * given KEM key, slots and sequence: the announce input the server tests build on.
 */
export function plainAnnounceInput(kemPublicKey: Uint8Array, slots: AnnounceInput['slots'], sequence: number): AnnounceInput {
  return {
    kemPublicKey,
    fachrichtungen: [Fachrichtung.VERHALTENSTHERAPIE],
    altersgruppen: [Altersgruppe.ERWACHSENE],
    modalitaeten: [Modalitaet.PRAXIS],
    kostentraeger: [Kostentraeger.GKV],
    plz: '10115',
    languages: ['de'],
    slots,
    sequence,
  };
}
