import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, SlotDecision, Terminart } from '@qpc/proto';
import { fail, FappError } from './errors.js';
import { MAX_MESSAGE_BYTES } from './limits.js';

/** Decodes protobuf bytes; any failure (including a non-Uint8Array) is FappError MALFORMED. */
export function decodeMessage<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array, maxBytes = MAX_MESSAGE_BYTES): MessageShape<Desc> {
  if (!(bytes instanceof Uint8Array)) fail('MALFORMED', 'expected bytes');
  if (bytes.length > maxBytes) fail('TOO_LARGE', `${schema.typeName} of ${bytes.length} bytes exceeds ${maxBytes}`);
  try {
    return fromBinary(schema, bytes);
  } catch (e) {
    if (e instanceof FappError) throw e;
    return fail('MALFORMED', `cannot decode ${schema.typeName}`, e);
  }
}

export const MAX_SAFE_U64 = BigInt(Number.MAX_SAFE_INTEGER);

/** uint64 from the wire as a JS number; values beyond 2^53 - 1 are malformed. */
export function u64(value: bigint, field: string): number {
  if (value > MAX_SAFE_U64) fail('MALFORMED', `${field} exceeds 2^53 - 1`);
  return Number(value);
}

function known(e: Record<string, string | number>): ReadonlySet<number> {
  return new Set(Object.values(e).filter((v): v is number => typeof v === 'number' && v !== 0));
}

export const KNOWN = {
  fachrichtung: known(Fachrichtung),
  altersgruppe: known(Altersgruppe),
  modalitaet: known(Modalitaet),
  kostentraeger: known(Kostentraeger),
  terminart: known(Terminart),
  slotDecision: known(SlotDecision),
} as const;

/** Checks an enum value against the known, non-zero values. */
export function enumValue<T extends number>(value: T, allowed: ReadonlySet<number>, field: string): T {
  if (!allowed.has(value)) fail('UNKNOWN_ENUM', `${field}: unknown value ${value}`);
  return value;
}

/**
 * Checks a repeated enum: every value known, no duplicates, and (when `required`) at
 * least one. Returns the values sorted so that equal sets compare equal (a new array).
 */
export function enumSet<T extends number>(values: readonly T[], allowed: ReadonlySet<number>, field: string, required: boolean): T[] {
  if (required && values.length === 0) fail('MISSING_FIELD', `${field} must name at least one value`);
  // Encoders write sets in ascending order: while the list ascends, no value can repeat an
  // earlier one. From the first value out of order on, each is looked for among those before
  // it. As every value is known, at most `allowed.size` of them can be distinct: a duplicate is
  // found within the first `allowed.size + 1`, however long the list.
  let ascending = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    enumValue(v, allowed, field);
    if (ascending && i > 0 && v <= values[i - 1]!) ascending = false;
    if (!ascending && values.indexOf(v) < i) fail('MALFORMED', `${field}: duplicate value ${v}`);
  }
  return ascending ? values.slice() : values.slice().sort((a, b) => a - b);
}

export function bytesOfLength(b: Uint8Array, len: number, field: string, code: 'INVALID_KEY' | 'MALFORMED' = 'MALFORMED'): Uint8Array {
  if (b.length !== len) fail(code, `${field} must be ${len} bytes, got ${b.length}`);
  return b;
}

const utf8Encoder = new TextEncoder();

/** UTF-8 length of a string in bytes. */
export function utf8Length(s: string): number {
  return utf8Encoder.encode(s).length;
}

// Control characters other than tab and newline have no place in shown text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text shown to people: bounded, no control or bidi-override characters, no lone surrogates. */
export function text(s: string, maxBytes: number, field: string, opts: { multiline?: boolean } = {}): string {
  if (utf8Length(s) > maxBytes) fail('TOO_LARGE', `${field} exceeds ${maxBytes} bytes`);
  if (CONTROL.test(s) || (!opts.multiline && /[\n\t]/.test(s)) || LONE_SURROGATE.test(s)) {
    fail('INVALID_TEXT', `${field} contains control characters`);
  }
  return s;
}
