import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';

/** German display names of the FAPP enums, as patients and therapists know them. */
export const FACHRICHTUNG_LABELS: Readonly<Record<Exclude<Fachrichtung, Fachrichtung.UNSPECIFIED>, string>> = {
  [Fachrichtung.VERHALTENSTHERAPIE]: 'Verhaltenstherapie',
  [Fachrichtung.TIEFENPSYCHOLOGISCH_FUNDIERT]: 'Tiefenpsychologisch fundierte Psychotherapie',
  [Fachrichtung.ANALYTISCH]: 'Analytische Psychotherapie',
  [Fachrichtung.SYSTEMISCH]: 'Systemische Therapie',
};

export const ALTERSGRUPPE_LABELS: Readonly<Record<Exclude<Altersgruppe, Altersgruppe.UNSPECIFIED>, string>> = {
  [Altersgruppe.ERWACHSENE]: 'Erwachsene',
  [Altersgruppe.KINDER_JUGENDLICHE]: 'Kinder und Jugendliche (bis 21)',
};

export const MODALITAET_LABELS: Readonly<Record<Exclude<Modalitaet, Modalitaet.UNSPECIFIED>, string>> = {
  [Modalitaet.PRAXIS]: 'Praxis',
  [Modalitaet.VIDEO]: 'Video',
  [Modalitaet.HYBRID]: 'Hybrid',
};

export const KOSTENTRAEGER_LABELS: Readonly<Record<Exclude<Kostentraeger, Kostentraeger.UNSPECIFIED>, string>> = {
  [Kostentraeger.GKV]: 'Gesetzliche Krankenversicherung',
  [Kostentraeger.PKV]: 'Private Krankenversicherung',
  [Kostentraeger.BEIHILFE]: 'Beihilfe',
  [Kostentraeger.SELBSTZAHLER]: 'Selbstzahler',
};

export const TERMINART_LABELS: Readonly<Record<Exclude<Terminart, Terminart.UNSPECIFIED>, string>> = {
  [Terminart.SPRECHSTUNDE]: 'Psychotherapeutische Sprechstunde',
  [Terminart.AKUTBEHANDLUNG]: 'Akutbehandlung',
  [Terminart.PROBATORIK]: 'Probatorische Sitzung',
  [Terminart.RICHTLINIENTHERAPIE]: 'Richtlinientherapie',
  [Terminart.GRUPPE]: 'Gruppentherapie',
};
