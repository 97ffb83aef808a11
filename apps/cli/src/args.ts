/** The commands `qpc` understands; each later feature adds its own. */
export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'health'; api: string }
  | FappAttestCommand
  | FappVerifyAttestationCommand;

/** Fachrichtung enum values of qpc.v1.Fachrichtung (1..4). */
export type FachrichtungValue = 1 | 2 | 3 | 4;

export interface FappAttestCommand {
  kind: 'fapp-attest';
  therapistKey: Uint8Array;
  licence: string;
  fachrichtungen: FachrichtungValue[];
  validDays: number;
  out?: string;
}

export interface FappVerifyAttestationCommand {
  kind: 'fapp-verify-attestation';
  /** base64url text, or `@FILE` to read it from a file (what `attest --out` writes). */
  attestation: string;
  therapistKey: Uint8Array;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: qpc <command> [options]

commands:
  health [--api URL]   check that a quicprochat server is up and ready (default http://127.0.0.1:3000)
  fapp attest --therapist-key <hex|b64url> --licence <number> --fachrichtung <name>[,<name>…]
              [--valid-days N] [--out FILE]
                       issue a licence attestation from the DEMO authority (not a real Kammer);
                       prints it base64url and the licence salt the therapist keeps
  fapp verify-attestation <b64url|@FILE> --therapist-key <hex|b64url>
                       check an attestation against the demo trust store
  version              print the version
  help                 this text

Fachrichtungen: verhaltenstherapie (vt), tiefenpsychologisch (tp), analytisch (ap), systemisch (st)`;

export function parseCommand(argv: string[]): Command {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help' };
    case 'version':
    case '--version':
      return { kind: 'version' };
    case 'health': {
      let api = 'http://127.0.0.1:3000';
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--api' && rest[i + 1]) api = rest[++i]!;
        else throw new UsageError(`health: unexpected ${JSON.stringify(rest[i])}\n${USAGE}`);
      }
      if (!/^https?:\/\//.test(api)) throw new UsageError(`--api must be an http(s) URL\n${USAGE}`);
      return { kind: 'health', api };
    }
    case 'fapp':
      return parseFapp(rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
  }
}

const FACHRICHTUNGEN: Readonly<Record<string, FachrichtungValue>> = {
  verhaltenstherapie: 1,
  vt: 1,
  tiefenpsychologisch: 2,
  'tiefenpsychologisch-fundiert': 2,
  tp: 2,
  analytisch: 3,
  ap: 3,
  systemisch: 4,
  st: 4,
};

/** Longest validity `--valid-days` accepts (an attestation is renewed, not issued forever). */
export const MAX_VALID_DAYS = 5 * 366;
const MAX_LICENCE_LENGTH = 64;

/** A 32-byte Ed25519 public key as 64 hex digits or 43 characters of base64url. */
export function parseKey(text: string, option: string): Uint8Array {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  if (/^[A-Za-z0-9_-]{43}$/.test(text)) {
    const bytes = Buffer.from(text, 'base64url');
    if (bytes.length === 32 && bytes.toString('base64url') === text) return new Uint8Array(bytes);
  }
  throw new UsageError(`${option} must be a 32-byte Ed25519 public key: 64 hex digits or 43 base64url characters`);
}

function parseFachrichtungen(text: string): FachrichtungValue[] {
  const out: FachrichtungValue[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim().toLowerCase();
    const v = FACHRICHTUNGEN[name];
    if (v === undefined) {
      throw new UsageError(`unknown Fachrichtung ${JSON.stringify(raw.trim())}: use verhaltenstherapie, tiefenpsychologisch, analytisch or systemisch`);
    }
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** `--name value` options, each at most once; positional arguments in order. */
function options(args: string[], known: readonly string[], sub: string): { opts: Map<string, string>; positional: string[] } {
  const opts = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      if (!known.includes(a)) throw new UsageError(`fapp ${sub}: unknown option ${a}\n${USAGE}`);
      const v = args[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`fapp ${sub}: ${a} needs a value`);
      if (opts.has(a)) throw new UsageError(`fapp ${sub}: ${a} given twice`);
      opts.set(a, v);
      i++;
    } else positional.push(a);
  }
  return { opts, positional };
}

function required(opts: Map<string, string>, name: string, sub: string): string {
  const v = opts.get(name);
  if (v === undefined || v.trim() === '') throw new UsageError(`fapp ${sub}: ${name} is required\n${USAGE}`);
  return v;
}

function parseFapp(args: string[]): Command {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'attest': {
      const { opts, positional } = options(rest, ['--therapist-key', '--licence', '--fachrichtung', '--valid-days', '--out'], sub);
      if (positional.length > 0) throw new UsageError(`fapp attest: unexpected ${JSON.stringify(positional[0])}\n${USAGE}`);
      const therapistKey = parseKey(required(opts, '--therapist-key', sub), '--therapist-key');
      const licence = required(opts, '--licence', sub).trim();
      if (licence.length > MAX_LICENCE_LENGTH) throw new UsageError(`--licence must be at most ${MAX_LICENCE_LENGTH} characters`);
      const fachrichtungen = parseFachrichtungen(required(opts, '--fachrichtung', sub));
      let validDays = 365;
      const days = opts.get('--valid-days');
      if (days !== undefined) {
        validDays = /^\d+$/.test(days) ? Number(days) : NaN;
        if (!(validDays >= 1 && validDays <= MAX_VALID_DAYS)) throw new UsageError(`--valid-days must be a whole number from 1 to ${MAX_VALID_DAYS}`);
      }
      const cmd: FappAttestCommand = { kind: 'fapp-attest', therapistKey, licence, fachrichtungen, validDays };
      const out = opts.get('--out');
      if (out !== undefined) cmd.out = out;
      return cmd;
    }
    case 'verify-attestation': {
      const { opts, positional } = options(rest, ['--therapist-key'], sub);
      if (positional.length !== 1) throw new UsageError(`fapp verify-attestation: give exactly one attestation (base64url or @FILE)\n${USAGE}`);
      const attestation = positional[0]!;
      if (!attestation.startsWith('@') && !/^[A-Za-z0-9_-]+$/.test(attestation)) throw new UsageError('the attestation must be base64url (or @FILE)');
      return { kind: 'fapp-verify-attestation', attestation, therapistKey: parseKey(required(opts, '--therapist-key', sub), '--therapist-key') };
    }
    case undefined:
      throw new UsageError(`fapp: which subcommand? attest or verify-attestation\n${USAGE}`);
    default:
      throw new UsageError(`fapp: unknown subcommand ${JSON.stringify(sub)}\n${USAGE}`);
  }
}
