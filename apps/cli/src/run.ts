import { readFile, writeFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { FACHRICHTUNG_LABELS, isFappError, TERMINART_LABELS, verifyAttestation } from '@qpc/fapp';
import { ApiClient, ApiError } from '@qpc/sdk';
import { demoAuthority, issueDemoAttestation } from '@qpc/seed';
import { type AccountOptions, COMMAND_USAGE, parseCommand, USAGE, UsageError, type FappAttestCommand, type FappSearchCommand, type FappVerifyAttestationCommand } from './args.js';
import { describeError, EXIT } from './exit.js';
import { runRepl } from './repl.js';
import { connect } from './session.js';

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
  /** Environment (QPC_SERVER, QPC_DATA_DIR, QPC_PASSWORD, HOME, NO_COLOR). */
  env?: Record<string, string | undefined>;
  /** Terminal streams for the REPL. */
  stdin?: Readable;
  stdoutStream?: Writable & { isTTY?: boolean };
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const DEMO_WARNING = 'DEMO authority: its key is public, anyone can sign as it. For npm start and tests only, never for production.';

/** Runs one `qpc` command line and returns the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let cmd;
  try {
    cmd = parseCommand(argv, io.env ?? {});
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${e.message}\n`);
      return EX_USAGE;
    }
    throw e;
  }
  switch (cmd.kind) {
    case 'help': {
      if (cmd.topic === undefined) {
        io.stdout(`${USAGE}\n`);
        return 0;
      }
      const text = COMMAND_USAGE[cmd.topic] ?? (cmd.topic === 'fapp' ? Object.entries(COMMAND_USAGE).filter(([k]) => k.startsWith('fapp ')).map(([, v]) => v).join('\n\n') : undefined);
      if (text === undefined) {
        io.stderr(`no help for ${JSON.stringify(cmd.topic)}\n${USAGE}\n`);
        return EX_USAGE;
      }
      io.stdout(`${text}\n`);
      return 0;
    }
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
        return e instanceof ApiError && e.code === 'network' ? EXIT.UNAVAILABLE : 1;
      }
    }
    case 'repl':
      if (!io.stdin || !io.stdoutStream) throw new Error('the REPL needs a terminal');
      return runRepl(cmd.account, { input: io.stdin, output: io.stdoutStream, env: io.env ?? {} });
    case 'send':
      return messenger(cmd.account, io, async (client) => {
        await client.sync();
        const id = await client.startDm(cmd.to);
        const r = await client.sendText(id, cmd.text);
        if (r.deliveries === null) {
          io.stderr(`cannot reach ${cmd.account.server}; the message stays in the outbox and goes out with the next qpc command\n`);
          return EXIT.UNAVAILABLE;
        }
        io.stdout(`sent to ${cmd.to}\n`);
        return EXIT.OK;
      });
    case 'fetch':
      return messenger(cmd.account, io, async (client) => {
        await client.flushOutbox();
        for (const e of await client.sync()) {
          if (e.kind === 'message') {
            const c = client.conversation(e.groupId);
            const where = c ? (c.kind === 'group' ? `#${c.name}` : c.name) : e.groupId.slice(0, 8);
            if (cmd.json) io.stdout(`${JSON.stringify({ conversation: where, from: e.sender, verified: e.verified, text: e.text, type: e.type, sentAt: e.sentAt, id: e.id })}\n`);
            else io.stdout(`${c?.kind === 'dm' ? '' : `${where} `}[${e.sender}${e.verified ? '' : '?'}] ${e.text}\n`);
          } else if (!cmd.json && e.kind === 'conversation') io.stdout(`* ${e.conversation.kind === 'dm' ? `${e.conversation.name} started a conversation with you` : `#${e.conversation.name}: ${e.conversation.members.join(', ')}`}\n`);
        }
        return EXIT.OK;
      });
    case 'devices':
      return messenger(cmd.account, io, async (client) => {
        const ds = await client.listDevices();
        if (cmd.json) io.stdout(`${JSON.stringify(ds)}\n`);
        else for (const d of ds) io.stdout(`${d.deviceId === client.deviceId ? '*' : ' '} ${d.deviceId}  ${d.name}  ${d.createdAt}${d.revokedAt ? `  revoked ${d.revokedAt}` : ''}\n`);
        return EXIT.OK;
      });
    case 'fapp-search':
      return fappSearch(cmd, io);
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

type Client = Awaited<ReturnType<typeof connect>>['client'];

/** Logs in, runs one messenger action, maps failures to a message and an exit code. */
async function messenger(a: AccountOptions, io: CliIo, action: (client: Client) => Promise<number>): Promise<number> {
  try {
    const { client } = await connect(a);
    return await action(client);
  } catch (e) {
    const d = describeError(e, a.server);
    io.stderr(`qpc: ${d.message}\n`);
    return d.code;
  }
}

interface SearchHit {
  therapistId: string;
  slotId: string;
  start: string;
  durationMinutes: number;
  terminart: number;
  plz: string;
  verified: boolean;
  authority: string | null;
}

const berlin = new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', weekday: 'short', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/** Anonymous FAPP search through the server's /api/v1/fapp/slots (no token, no identity). */
async function fappSearch(cmd: FappSearchCommand, io: CliIo): Promise<number> {
  const api = new ApiClient({ baseUrl: cmd.server });
  let results: SearchHit[];
  try {
    const query: Record<string, string | number> = { plz: cmd.plz, limit: cmd.limit };
    if (cmd.fachrichtungen.length > 0) query.fachrichtung = cmd.fachrichtungen.join(',');
    results = (await api.request<{ results: SearchHit[] }>('GET', '/api/v1/fapp/slots', undefined, query)).results;
  } catch (e) {
    const d = describeError(e, cmd.server);
    io.stderr(`qpc: ${d.message}\n`);
    return d.code;
  }
  if (cmd.json) {
    io.stdout(`${JSON.stringify(results)}\n`);
    return EXIT.OK;
  }
  if (results.length === 0) {
    io.stdout(`no free slots found for PLZ ${cmd.plz}*\n`);
    return EXIT.OK;
  }
  const rows = results.map((r) => [
    berlin.format(new Date(r.start)),
    `${r.durationMinutes} min`,
    TERMINART_LABELS[r.terminart as keyof typeof TERMINART_LABELS] ?? String(r.terminart),
    r.plz,
    r.verified ? `verified (${r.authority ?? '?'})` : 'unverified',
    r.therapistId.slice(0, 12),
  ]);
  const head = ['Beginn (Europe/Berlin)', 'Dauer', 'Terminart', 'PLZ', 'Approbation', 'Therapeut:in'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.stdout(`${[line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`);
  return EXIT.OK;
}
