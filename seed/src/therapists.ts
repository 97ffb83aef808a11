import { generateKemKeyPair, signingKeyPairFromSeed, type KemKeyPair, type SigningKeyPair } from '@qpc/crypto';
import {
  addDays,
  buildAnnounce,
  DAY_MS,
  DEFAULT_ANNOUNCE_TTL_MS,
  wallTimeToUtc,
  weekdayOf,
  zonedParts,
  type AnnounceInput,
  type SlotInput,
} from '@qpc/fapp';
import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';
import { issueDemoAttestation, type DemoAuthority } from './authority.js';
import type { DemoRandom } from './random.js';
import { DEMO_REGIONS } from './regions.js';

const FIRST = ['Anna', 'Lena', 'Sophie', 'Marie', 'Julia', 'Katharina', 'Laura', 'Sarah', 'Miriam', 'Hannah', 'Jonas', 'Lukas', 'Felix', 'Paul', 'Maximilian', 'David', 'Tobias', 'Elif', 'Ayşe', 'Mehmet', 'Olga', 'Tomasz', 'Nadia', 'Yusuf', 'Friederike', 'Johannes'];
const LAST = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Richter', 'Klein', 'Wolf', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun', 'Krüger', 'Hartmann', 'Yılmaz', 'Kaya', 'Nowak', 'Petrov', 'Haddad', 'Lange'];
const TITLES = ['Dipl.-Psych.', 'M.Sc. Psych.', 'Dr. phil.', 'Dr. rer. nat.', 'Dipl.-Soz.-Päd.'];

/** Extra languages beside German, with the share of therapists who speak them. */
const LANGUAGES: readonly (readonly [string, number])[] = [
  ['en', 0.35],
  ['tr', 0.08],
  ['ar', 0.05],
  ['ru', 0.05],
  ['uk', 0.04],
  ['pl', 0.03],
  ['fa', 0.03],
  ['fr', 0.03],
  ['es', 0.03],
  ['gsg', 0.02],
];

/** Weekday office hours (Europe/Berlin): slot starts two hours apart, so even 100-minute slots never overlap. */
export const OFFICE_HOUR_STARTS: readonly number[] = [8, 10, 12, 14, 16];

export interface DemoTherapist {
  index: number;
  displayName: string;
  city: string;
  plz: string;
  licenceNumber: string;
  /** Demo login: the therapist's Ed25519 and X-Wing secret keys are part of the demo data. */
  signing: SigningKeyPair;
  kem: KemKeyPair;
  /** FappSigned attestation bytes, absent for the unverified share of the demo. */
  attestation: Uint8Array | undefined;
  licenceSalt: Uint8Array | undefined;
  input: AnnounceInput;
  /** The signed announce (FappSigned bytes). */
  announce: Uint8Array;
}

export interface SlotPlanOptions {
  nowMs: number;
  days: number;
  count: number;
}

function slotKind(rng: DemoRandom): Pick<SlotInput, 'terminart' | 'durationMinutes' | 'groupSize'> {
  const terminart = rng.weighted<Terminart>([
    [Terminart.SPRECHSTUNDE, 4],
    [Terminart.PROBATORIK, 3],
    [Terminart.RICHTLINIENTHERAPIE, 2],
    [Terminart.AKUTBEHANDLUNG, 2],
    [Terminart.GRUPPE, 1],
  ]);
  if (terminart === Terminart.GRUPPE) return { terminart, durationMinutes: 100, groupSize: rng.int(3, 9) };
  if (terminart === Terminart.SPRECHSTUNDE || terminart === Terminart.AKUTBEHANDLUNG) return { terminart, durationMinutes: rng.pick([25, 50]) };
  return { terminart, durationMinutes: 50 };
}

/**
 * Slots on weekdays in the `days` after nowMs (starting tomorrow, Europe/Berlin), at
 * office hours, with deterministic ids. Wall-clock times go through the Berlin zone, so
 * plans that cross a DST change keep their local times.
 */
export function officeHourSlots(rng: DemoRandom, opts: SlotPlanOptions): SlotInput[] {
  const today = zonedParts(opts.nowMs);
  const candidates: { date: { year: number; month: number; day: number }; hour: number }[] = [];
  for (let d = 1; d <= opts.days; d++) {
    const date = addDays(today, d);
    const wd = weekdayOf(date);
    if (wd === 0 || wd === 6) continue;
    for (const hour of OFFICE_HOUR_STARTS) candidates.push({ date, hour });
  }
  return rng.sample(candidates, opts.count).map(({ date, hour }) => {
    const id = rng.bytes(16);
    const kind = slotKind(rng);
    // Half past only for short slots: a 100-minute slot at :30 would run into the next start.
    const minute = kind.durationMinutes <= 50 && rng.chance(0.3) ? 30 : 0;
    return { id, startMs: wallTimeToUtc({ ...date, hour, minute }), ...kind };
  });
}

export interface DemoTherapistOptions {
  index: number;
  nowMs: number;
  authority: DemoAuthority;
  /** Share of therapists with a demo attestation (default 0.9). */
  verifiedShare?: number;
  /** Slots over this many days (default 28). */
  days?: number;
}

/** One demo therapist: keys, profile, attestation and signed announce. */
export function buildDemoTherapist(rng: DemoRandom, opts: DemoTherapistOptions): DemoTherapist {
  const { index, nowMs } = opts;
  const region = rng.weighted(DEMO_REGIONS.map((r) => [r, r.weight] as const));
  const plz = rng.pick(region.plz);
  const signing = signingKeyPairFromSeed(rng.bytes(32));
  const kem = generateKemKeyPair(rng.bytes(32));
  const displayName = `${rng.pick(TITLES)} ${rng.pick(FIRST)} ${rng.pick(LAST)}`;
  const licenceNumber = `DEMO-PP-${String(100000 + index).padStart(6, '0')}`;

  const fachrichtungen = rng.sample(
    [Fachrichtung.VERHALTENSTHERAPIE, Fachrichtung.TIEFENPSYCHOLOGISCH_FUNDIERT, Fachrichtung.ANALYTISCH, Fachrichtung.SYSTEMISCH],
    rng.weighted([
      [1, 6],
      [2, 3],
      [3, 1],
    ]),
  );
  const altersgruppen = rng.weighted<Altersgruppe[]>([
    [[Altersgruppe.ERWACHSENE], 7],
    [[Altersgruppe.KINDER_JUGENDLICHE], 2],
    [[Altersgruppe.ERWACHSENE, Altersgruppe.KINDER_JUGENDLICHE], 1],
  ]);
  const modalitaeten = rng.weighted<Modalitaet[]>([
    [[Modalitaet.PRAXIS], 4],
    [[Modalitaet.PRAXIS, Modalitaet.VIDEO], 3],
    [[Modalitaet.HYBRID], 2],
    [[Modalitaet.VIDEO], 1],
  ]);
  const kostentraeger = rng.weighted<Kostentraeger[]>([
    [[Kostentraeger.GKV, Kostentraeger.PKV, Kostentraeger.BEIHILFE, Kostentraeger.SELBSTZAHLER], 5],
    [[Kostentraeger.GKV], 2],
    [[Kostentraeger.PKV, Kostentraeger.BEIHILFE, Kostentraeger.SELBSTZAHLER], 2],
    [[Kostentraeger.SELBSTZAHLER], 1],
  ]);
  const languages = ['de', ...LANGUAGES.filter(([, p]) => rng.chance(p)).map(([code]) => code)];

  let attestation: Uint8Array | undefined;
  let licenceSalt: Uint8Array | undefined;
  if (rng.chance(opts.verifiedShare ?? 0.9)) {
    const issued = issueDemoAttestation(
      { therapistKey: signing.publicKey, licenceNumber, fachrichtungen, nowMs: nowMs - DAY_MS, salt: rng.bytes(32), attestationId: rng.bytes(16) },
      opts.authority,
    );
    attestation = issued.bytes;
    licenceSalt = issued.salt;
  }

  const input: AnnounceInput = {
    kemPublicKey: kem.publicKey,
    fachrichtungen,
    altersgruppen,
    modalitaeten,
    kostentraeger,
    plz,
    languages,
    barrierFree: rng.chance(0.4),
    displayName,
    slots: officeHourSlots(rng, { nowMs, days: opts.days ?? 28, count: rng.int(3, 12) }),
    sequence: 1,
    expiresAtMs: nowMs + DEFAULT_ANNOUNCE_TTL_MS,
  };
  if (attestation) input.attestation = attestation;
  return {
    index,
    displayName,
    city: region.city,
    plz,
    licenceNumber,
    signing,
    kem,
    attestation,
    licenceSalt,
    input,
    announce: buildAnnounce(signing, input, nowMs),
  };
}
