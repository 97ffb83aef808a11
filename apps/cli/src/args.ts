/** The commands `qpc` understands; each later feature adds its own. */
export type Command =
  | { kind: 'help'; topic?: string }
  | { kind: 'version' }
  | { kind: 'health'; api: string }
  | { kind: 'repl'; account: AccountOptions }
  | { kind: 'send'; account: AccountOptions; to: string; text: string }
  | { kind: 'fetch'; account: AccountOptions; json: boolean }
  | { kind: 'devices'; account: AccountOptions; json: boolean }
  | FappSearchCommand
  | FappAttestCommand
  | FappVerifyAttestationCommand;

/** Who and where: every messenger command takes these. */
export interface AccountOptions {
  user: string;
  password: string;
  server: string;
  dataDir: string;
}

export interface FappSearchCommand {
  kind: 'fapp-search';
  server: string;
  plz: string;
  fachrichtungen: FachrichtungValue[];
  limit: number;
  json: boolean;
}

/** Defaults from the environment: QPC_SERVER, QPC_DATA_DIR, QPC_PASSWORD, HOME. */
export interface ArgsEnv {
  QPC_SERVER?: string;
  QPC_DATA_DIR?: string;
  QPC_PASSWORD?: string;
  HOME?: string;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:3000';

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

const ACCOUNT_OPTIONS = `  -u, --user NAME      the account (registered on first use)
  -p, --password PW    its password (or QPC_PASSWORD); it never leaves this machine
  --server URL         the server (QPC_SERVER, default ${'http://127.0.0.1:3000'})
  --data-dir DIR       encrypted local store, one directory per user (QPC_DATA_DIR, default ~/.qpc)`;

/** Per-command help (`qpc <command> --help`). */
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  repl: `usage: qpc repl -u NAME -p PASSWORD [--server URL] [--data-dir DIR]

Interactive messenger: registers on first use, logs in otherwise, restores keys and
conversations from the encrypted local store, shows messages as they arrive
([alice] Hello, Bob!) and reconnects by itself. Type /help inside for the commands.

${ACCOUNT_OPTIONS}`,
  send: `usage: qpc send USER TEXT -u NAME -p PASSWORD [--server URL] [--data-dir DIR]

Sends TEXT to USER in your 1:1 conversation (started if there is none).

${ACCOUNT_OPTIONS}`,
  fetch: `usage: qpc fetch -u NAME -p PASSWORD [--server URL] [--data-dir DIR] [--json]

Fetches, decrypts and prints what arrived since the last fetch or REPL session, then
acknowledges it. --json prints one JSON object per line.

${ACCOUNT_OPTIONS}`,
  devices: `usage: qpc devices -u NAME -p PASSWORD [--server URL] [--data-dir DIR] [--json]

Lists the account's devices (revoked ones marked).

${ACCOUNT_OPTIONS}`,
  health: `usage: qpc health [--server URL]

Checks that a quicprochat server is up and ready (exit 0) or not (exit 69).`,
  'fapp search': `usage: qpc fapp search --plz PREFIX [--fachrichtung NAME[,NAME…]] [--limit N] [--json] [--server URL]

Anonymous search for free psychotherapy slots: PLZ prefix of 2–5 digits, earliest first.
The query carries no identity. Times are shown in Europe/Berlin.`,
  'fapp attest': `usage: qpc fapp attest --therapist-key <hex|b64url> --licence <number> --fachrichtung <name>[,<name>…] [--valid-days N] [--out FILE]

Issues a licence attestation from the DEMO authority (not a real Kammer).`,
  'fapp verify-attestation': `usage: qpc fapp verify-attestation <b64url|@FILE> --therapist-key <hex|b64url>

Checks an attestation against the demo trust store.`,
};

export const USAGE = `usage: qpc <command> [options]      (qpc <command> --help for details)

commands:
  repl -u NAME -p PW   interactive messenger with slash commands (/help inside)
  send USER TEXT       send a message to USER (1:1), then exit
  fetch                print and acknowledge what arrived
  devices              list the account's devices
  fapp search --plz PREFIX [--fachrichtung NAME] [--json]
                       anonymous search for free therapy slots
  health [--server URL] check that a quicprochat server is up and ready (default http://127.0.0.1:3000)
  fapp attest --therapist-key <hex|b64url> --licence <number> --fachrichtung <name>[,<name>…]
              [--valid-days N] [--out FILE]
                       issue a licence attestation from the DEMO authority (not a real Kammer);
                       prints it base64url and the licence salt the therapist keeps
  fapp verify-attestation <b64url|@FILE> --therapist-key <hex|b64url>
                       check an attestation against the demo trust store
  version              print the version
  help                 this text

Fachrichtungen: verhaltenstherapie (vt), tiefenpsychologisch (tp), analytisch (ap), systemisch (st)`;

const isHelp = (a: string) => a === '--help' || a === '-h';

function httpUrl(v: string, option: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(v)) throw new UsageError(`${option} must be an http(s) URL`);
  return v.replace(/\/+$/, '');
}

/** Messenger command options: account flags anywhere, the rest positional. */
function account(cmd: string, args: string[], env: ArgsEnv, flags: string[] = []): { account: AccountOptions; positional: string[]; flags: Set<string> } {
  let user: string | undefined;
  let password = env.QPC_PASSWORD;
  let server = env.QPC_SERVER ?? DEFAULT_SERVER;
  let dataDir = env.QPC_DATA_DIR ?? `${env.HOME ?? '.'}/.qpc`;
  const positional: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined || (v.startsWith('-') && v.length > 1 && a !== '-p' && a !== '--password')) throw new UsageError(`${cmd}: ${a} needs a value`);
      return v;
    };
    if (a === '-u' || a === '--user' || a === '--username') user = value();
    else if (a === '-p' || a === '--password') password = value();
    else if (a === '--server' || a === '--api') server = httpUrl(value(), '--server');
    else if (a === '--data-dir') dataDir = value();
    else if (flags.includes(a)) seen.add(a);
    else if (a.startsWith('--') || (a.startsWith('-') && a.length > 1)) throw new UsageError(`${cmd}: unknown option ${a}\n${COMMAND_USAGE[cmd]}`);
    else positional.push(a);
  }
  if (!user) throw new UsageError(`${cmd}: -u NAME is required\n${COMMAND_USAGE[cmd]}`);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(user)) throw new UsageError(`${cmd}: a username is 1–64 letters, digits, '.', '_' or '-'`);
  if (!password) throw new UsageError(`${cmd}: -p PASSWORD (or QPC_PASSWORD) is required\n${COMMAND_USAGE[cmd]}`);
  return { account: { user, password, server, dataDir }, positional, flags: seen };
}

export function parseCommand(argv: string[], env: ArgsEnv = {}): Command {
  const [cmd, ...rest] = argv;
  if (cmd && cmd !== 'fapp' && rest.some(isHelp)) return { kind: 'help', topic: cmd };
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return rest[0] ? { kind: 'help', topic: rest.join(' ') } : { kind: 'help' };
    case 'version':
    case '--version':
      return { kind: 'version' };
    case 'health': {
      let api = env.QPC_SERVER ?? DEFAULT_SERVER;
      for (let i = 0; i < rest.length; i++) {
        if ((rest[i] === '--api' || rest[i] === '--server') && rest[i + 1]) api = rest[++i]!;
        else throw new UsageError(`health: unexpected ${JSON.stringify(rest[i])}\n${USAGE}`);
      }
      if (!/^https?:\/\//.test(api)) throw new UsageError(`--api must be an http(s) URL\n${USAGE}`);
      return { kind: 'health', api };
    }
    case 'repl': {
      const a = account('repl', rest, env);
      if (a.positional.length > 0) throw new UsageError(`repl: unexpected ${JSON.stringify(a.positional[0])}\n${COMMAND_USAGE.repl}`);
      return { kind: 'repl', account: a.account };
    }
    case 'send': {
      const a = account('send', rest, env);
      if (a.positional.length !== 2) throw new UsageError(`send: give a user and one text argument (quote it)\n${COMMAND_USAGE.send}`);
      if (a.positional[1]!.trim() === '') throw new UsageError('send: the text is empty');
      return { kind: 'send', account: a.account, to: a.positional[0]!, text: a.positional[1]! };
    }
    case 'fetch':
    case 'devices': {
      const a = account(cmd, rest, env, ['--json']);
      if (a.positional.length > 0) throw new UsageError(`${cmd}: unexpected ${JSON.stringify(a.positional[0])}\n${COMMAND_USAGE[cmd]}`);
      return { kind: cmd, account: a.account, json: a.flags.has('--json') };
    }
    case 'fapp':
      return parseFapp(rest, env);
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

function parseFapp(args: string[], env: ArgsEnv): Command {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') return { kind: 'help', topic: 'fapp' };
  if (sub && rest.some(isHelp)) return { kind: 'help', topic: `fapp ${sub}` };
  switch (sub) {
    case 'search': {
      const json = rest.includes('--json');
      const { opts, positional } = options(
        rest.filter((a) => a !== '--json'),
        ['--plz', '--fachrichtung', '--limit', '--server'],
        sub,
      );
      if (positional.length > 0) throw new UsageError(`fapp search: unexpected ${JSON.stringify(positional[0])}\n${COMMAND_USAGE['fapp search']}`);
      const plz = required(opts, '--plz', sub).trim();
      if (!/^\d{2,5}$/.test(plz)) throw new UsageError('--plz must be a PLZ prefix of 2 to 5 digits');
      const f = opts.get('--fachrichtung');
      let limit = 20;
      const l = opts.get('--limit');
      if (l !== undefined) {
        limit = /^\d+$/.test(l) ? Number(l) : NaN;
        if (!(limit >= 1 && limit <= 500)) throw new UsageError('--limit must be a whole number from 1 to 500');
      }
      const server = httpUrl(opts.get('--server') ?? env.QPC_SERVER ?? DEFAULT_SERVER, '--server');
      return { kind: 'fapp-search', server, plz, fachrichtungen: f === undefined ? [] : parseFachrichtungen(f), limit, json };
    }
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
      throw new UsageError(`fapp: which subcommand? search, attest or verify-attestation\n${USAGE}`);
    default:
      throw new UsageError(`fapp: unknown subcommand ${JSON.stringify(sub)}\n${USAGE}`);
  }
}
