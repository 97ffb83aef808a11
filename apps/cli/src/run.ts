import { readFile, writeFile } from 'node:fs/promises';
import { FACHRICHTUNG_LABELS, isFappError, verifyAttestation } from '@qpc/fapp';
import { ApiClient, ApiError } from '@qpc/sdk';
import { demoAuthority, issueDemoAttestation } from '@qpc/seed';
import { parseCommand, USAGE, UsageError, type FappAttestCommand, type FappVerifyAttestationCommand } from './args.js';

export const VERSION = '0.1.0';
/** sysexits.h EX_USAGE: the command line was wrong. */
export const EX_USAGE = 64;
const DAY_MS = 86_400_000;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The clock (tests pin it). */
  now?: () => number;
  readFile?: (path: string) => Promise<string>;
  writeFile?: (path: string, text: string) => Promise<void>;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const DEMO_WARNING = 'DEMO authority: its key is public, anyone can sign as it. For npm start and tests only, never for production.';

/** Runs one `qpc` command line and returns the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let cmd;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${e.message}\n`);
      return EX_USAGE;
    }
    throw e;
  }
  switch (cmd.kind) {
    case 'help':
      io.stdout(`${USAGE}\n`);
      return 0;
    case 'version':
      io.stdout(`qpc ${VERSION}\n`);
      return 0;
    case 'health': {
      const api = new ApiClient({ baseUrl: cmd.api });
      try {
        await api.request('GET', '/readyz');
        io.stdout(`${cmd.api}: ready\n`);
        return 0;
      } catch (e) {
        const reason = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
        io.stderr(`${cmd.api}: not ready (${reason})\n`);
        return 1;
      }
    }
    case 'fapp-attest':
      return attest(cmd, io);
    case 'fapp-verify-attestation':
      return verify(cmd, io);
  }
}

async function attest(cmd: FappAttestCommand, io: CliIo): Promise<number> {
  const nowMs = (io.now ?? Date.now)();
  const issued = issueDemoAttestation({
    therapistKey: cmd.therapistKey,
    licenceNumber: cmd.licence,
    fachrichtungen: cmd.fachrichtungen,
    nowMs,
    validUntilMs: nowMs + cmd.validDays * DAY_MS,
  });
  const text = b64(issued.bytes);
  io.stderr(`${DEMO_WARNING}\n`);
  if (cmd.out !== undefined) {
    try {
      await (io.writeFile ?? ((p, t) => writeFile(p, t, { flag: 'wx' })))(cmd.out, `${text}\n`);
    } catch (e) {
      io.stderr(`cannot write ${cmd.out}: ${(e as Error).message}\n`);
      return 1;
    }
    io.stdout(`attestation: written to ${cmd.out}\n`);
  } else {
    io.stdout(`attestation: ${text}\n`);
  }
  io.stdout(`licence-salt: ${b64(issued.salt)}\n`);
  io.stdout(`attestation-id: ${Buffer.from(issued.attestation.attestationId).toString('hex')}\n`);
  io.stdout(`valid-until: ${new Date(issued.attestation.validUntilMs).toISOString()}\n`);
  io.stderr('Keep the licence salt: with it and the licence number the therapist can prove the attested licence later.\n');
  return 0;
}

async function verify(cmd: FappVerifyAttestationCommand, io: CliIo): Promise<number> {
  let text = cmd.attestation;
  if (text.startsWith('@')) {
    try {
      text = (await (io.readFile ?? ((p) => readFile(p, 'utf8')))(text.slice(1))).trim();
    } catch (e) {
      io.stderr(`cannot read ${cmd.attestation.slice(1)}: ${(e as Error).message}\n`);
      return EX_USAGE;
    }
  }
  const bytes = Buffer.from(text, 'base64url');
  if (!/^[A-Za-z0-9_-]+$/.test(text) || bytes.length === 0 || bytes.toString('base64url') !== text) {
    io.stderr('the attestation is not valid base64url\n');
    return EX_USAGE;
  }
  const authority = demoAuthority();
  try {
    const v = verifyAttestation(new Uint8Array(bytes), cmd.therapistKey, authority.trust, (io.now ?? Date.now)());
    const a = v.attestation;
    io.stdout('valid\n');
    io.stdout(`authority: ${v.authority.name}\n`);
    io.stdout(`fachrichtungen: ${a.fachrichtungen.map((f) => FACHRICHTUNG_LABELS[f as keyof typeof FACHRICHTUNG_LABELS] ?? String(f)).join(', ')}\n`);
    io.stdout(`issued-at: ${new Date(a.issuedAtMs).toISOString()}\n`);
    io.stdout(`valid-until: ${new Date(a.validUntilMs).toISOString()}\n`);
    io.stdout(`attestation-id: ${Buffer.from(a.attestationId).toString('hex')}\n`);
    return 0;
  } catch (e) {
    if (isFappError(e)) {
      io.stderr(`invalid: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
