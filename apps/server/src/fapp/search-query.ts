import { MAX_QUERY_LIMIT } from '@qpc/fapp';
import type { FieldProblem } from '../common/server-error.js';
import { invalidRequest } from '../common/validation.js';

/**
 * The query string of `GET /fapp/slots`, parsed and checked for form: the syntax of each
 * parameter, not what the values mean (an enum number no version knows, a PLZ prefix of no
 * Leitregion); `validateFilter` in @qpc/fapp checks those, with their own codes.
 *
 * Hand-written in place of class-validator: every patient's search passes through it, and
 * the decorators' pipe allocated about 36 KiB per request (see docs/benchmarks.md).
 */
export interface SearchQuery {
  plz?: string;
  fachrichtung?: number[];
  kostentraeger?: number[];
  terminart?: number[];
  modalitaet?: number[];
  altersgruppe?: number;
  language?: string;
  barrierFree?: boolean;
  verifiedOnly?: boolean;
  /** Milliseconds since the epoch. */
  from?: number;
  until?: number;
  limit?: number;
  includeAnnounces?: boolean;
}

/** The most hits one search returns (the library's bound, which `validateFilter` applies too). */
export const SEARCH_LIMIT_MAX = MAX_QUERY_LIMIT;

const PLZ = /^\d{2,5}$/;
const LANGUAGE = /^[a-z]{2,3}$/;
const SMALL_INT = /^\d{1,4}$/;
/** A calendar date (UTC midnight), or a date and time with its offset: Z or ±hh:mm. */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d))?$/;

/** A parser's answer for a value it does not accept. */
const INVALID = Symbol('invalid');

interface Param {
  /** The value; undefined for one that filters nothing; INVALID otherwise. */
  parse(v: string): unknown;
  message: string;
  /** A comma list: the parameter may also be repeated. */
  list?: true;
}

const ENUM_LIST = (name: string): Param => ({ parse: intList, message: `each value in ${name} must be an integer number`, list: true });
const BOOL = (name: string): Param => ({ parse: bool, message: `${name} must be a boolean value (true, false, 1, 0)` });
const INSTANT_OF = (name: string): Param => ({ parse: instant, message: `${name} must be an ISO 8601 date (2026-10-23) or date and time with its offset (2026-10-23T09:00:00Z)` });

/** Each parameter of the route. */
const PARAMS: Record<keyof SearchQuery, Param> = {
  plz: { parse: (v) => (PLZ.test(v) ? v : INVALID), message: 'plz must be 2–5 digits' },
  fachrichtung: ENUM_LIST('fachrichtung'),
  kostentraeger: ENUM_LIST('kostentraeger'),
  terminart: ENUM_LIST('terminart'),
  modalitaet: ENUM_LIST('modalitaet'),
  altersgruppe: { parse: (v) => (SMALL_INT.test(v) ? Number(v) : INVALID), message: 'altersgruppe must be an integer number' },
  language: { parse: (v) => (LANGUAGE.test(v) ? v : INVALID), message: 'language must be an ISO 639 code' },
  barrierFree: BOOL('barrierFree'),
  verifiedOnly: BOOL('verifiedOnly'),
  from: INSTANT_OF('from'),
  until: INSTANT_OF('until'),
  limit: {
    parse: (v) => (SMALL_INT.test(v) && Number(v) >= 1 && Number(v) <= SEARCH_LIMIT_MAX ? Number(v) : INVALID),
    message: `limit must be an integer from 1 to ${SEARCH_LIMIT_MAX}`,
  },
  includeAnnounces: BOOL('includeAnnounces'),
};

/** "1,2,3" -> [1, 2, 3]; "" filters nothing. */
function intList(v: string): number[] | undefined | typeof INVALID {
  if (v === '') return undefined;
  const out: number[] = [];
  for (const part of v.split(',')) {
    const p = part.trim();
    if (!SMALL_INT.test(p)) return INVALID;
    out.push(Number(p));
  }
  return out;
}

function bool(v: string): boolean | typeof INVALID {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return INVALID;
}

/** Milliseconds since the epoch. */
function instant(v: string): number | typeof INVALID {
  const m = INSTANT.exec(v);
  if (!m) return INVALID;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  // 2026-02-30 would roll over into March.
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return INVALID;
  const ms = Date.parse(v);
  return Number.isSafeInteger(ms) && ms >= 0 ? ms : INVALID;
}

function isParam(key: string): key is keyof SearchQuery {
  return Object.prototype.hasOwnProperty.call(PARAMS, key);
}

/**
 * Parses the query object of Fastify's query-string parser: a string per parameter, an array
 * of them when repeated. A repeated list parameter counts as one comma list; any other
 * parameter given twice, or a parameter this route does not know, is an error. Throws
 * `invalidRequest` with one entry per offending parameter.
 */
export function parseSearchQuery(raw: unknown): SearchQuery {
  const out: SearchQuery = {};
  const problems: FieldProblem[] = [];
  const record = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!isParam(key)) {
      problems.push({ field: key, messages: [`property ${key} should not exist`] });
      continue;
    }
    const value = record[key];
    const param = PARAMS[key];
    const text = typeof value === 'string' ? value : param.list && Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join(',') : undefined;
    if (text === undefined) {
      problems.push({ field: key, messages: [`${key} must be given once`] });
      continue;
    }
    const parsed = param.parse(text);
    if (parsed === INVALID) problems.push({ field: key, messages: [param.message] });
    else if (parsed !== undefined) (out as Record<string, unknown>)[key] = parsed;
  }
  if (problems.length > 0) throw invalidRequest(problems);
  return out;
}
