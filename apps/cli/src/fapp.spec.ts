import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair, toHex } from '@qpc/crypto';
import { licenceMatches, verifyAttestation } from '@qpc/fapp';
import { Fachrichtung } from '@qpc/proto';
import { demoAuthority } from '@qpc/seed';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.js';
import { EX_USAGE, run } from './run.js';

const NOW = Date.UTC(2026, 9, 20, 7, 0);
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'qpc-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function qpc(argv: string[], now = NOW) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), now: () => now });
  return { code, stdout, stderr, field: (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stdout)?.[1] };
}

const therapist = generateSigningKeyPair();
const keyHex = toHex(therapist.publicKey);
const keyB64 = Buffer.from(therapist.publicKey).toString('base64url');

describe('qpc fapp attest', () => {
  it('issues a demo attestation that verifies for the therapist key, with the licence salt', async () => {
    const r = await qpc(['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-12345', '--fachrichtung', 'verhaltenstherapie,TP', '--valid-days', '30']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/DEMO authority/);
    const bytes = new Uint8Array(Buffer.from(r.field('attestation')!, 'base64url'));
    const salt = new Uint8Array(Buffer.from(r.field('licence-salt')!, 'base64url'));
    expect(salt).toHaveLength(32);
    const v = verifyAttestation(bytes, therapist.publicKey, demoAuthority().trust, NOW);
    expect(v.attestation.fachrichtungen).toEqual([Fachrichtung.VERHALTENSTHERAPIE, Fachrichtung.TIEFENPSYCHOLOGISCH_FUNDIERT]);
    expect(v.attestation.validUntilMs).toBe(NOW + 30 * DAY);
    expect(r.field('valid-until')).toBe(new Date(NOW + 30 * DAY).toISOString());
    expect(licenceMatches(v.attestation, 'PP-12345', salt)).toBe(true);
    expect(licenceMatches(v.attestation, 'PP-12346', salt)).toBe(false);
  });

  it('accepts the key as base64url and defaults to one year', async () => {
    const r = await qpc(['fapp', 'attest', '--therapist-key', keyB64, '--licence', 'PP-1', '--fachrichtung', 'systemisch']);
    expect(r.code).toBe(0);
    expect(r.field('valid-until')).toBe(new Date(NOW + 365 * DAY).toISOString());
  });

  it('writes the attestation to --out, and verify-attestation reads it back with @FILE', async () => {
    const out = join(dir, 'att.txt');
    const r = await qpc(['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-2', '--fachrichtung', 'analytisch', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.field('attestation')).toBe(`written to ${out}`);
    expect(readFileSync(out, 'utf8')).toMatch(/^[A-Za-z0-9_-]+\n$/);
    const v = await qpc(['fapp', 'verify-attestation', `@${out}`, '--therapist-key', keyB64]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^valid$/m);
    expect(v.field('fachrichtungen')).toBe('Analytische Psychotherapie');
    // An existing file is not overwritten.
    const again = await qpc(['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-2', '--fachrichtung', 'analytisch', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/cannot write/);
  });

  it.each([
    [['fapp', 'attest', '--licence', 'PP-1', '--fachrichtung', 'vt'], /--therapist-key is required/],
    [['fapp', 'attest', '--therapist-key', keyHex, '--fachrichtung', 'vt'], /--licence is required/],
    [['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-1'], /--fachrichtung is required/],
    [['fapp', 'attest', '--therapist-key', 'abcd', '--licence', 'PP-1', '--fachrichtung', 'vt'], /64 hex digits or 43 base64url/],
    [['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-1', '--fachrichtung', 'gestalt'], /unknown Fachrichtung "gestalt"/],
    [['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-1', '--fachrichtung', 'vt', '--valid-days', '0'], /--valid-days must be/],
    [['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-1', '--fachrichtung', 'vt', '--valid-days', '1.5'], /--valid-days must be/],
    [['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'x'.repeat(65), '--fachrichtung', 'vt'], /at most 64/],
    [['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-1', '--fachrichtung', 'vt', '--bogus', '1'], /unknown option --bogus/],
    [['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-1', '--licence', 'PP-2', '--fachrichtung', 'vt'], /given twice/],
    [['fapp', 'attest', '--therapist-key'], /needs a value/],
    [['fapp'], /which subcommand/],
    [['fapp', 'frobnicate'], /unknown subcommand/],
    [['fapp', 'verify-attestation', '--therapist-key', keyHex], /exactly one attestation/],
    [['fapp', 'verify-attestation', 'not base64!', '--therapist-key', keyHex], /base64url/],
    [['fapp', 'verify-attestation', 'AAAA'], /--therapist-key is required/],
  ])('refuses %j with exit 64 and a usage message', async (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    const r = await qpc(argv);
    expect(r.code).toBe(EX_USAGE);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});

describe('qpc fapp verify-attestation', () => {
  async function issued(): Promise<string> {
    const r = await qpc(['fapp', 'attest', '--therapist-key', keyHex, '--licence', 'PP-3', '--fachrichtung', 'vt', '--valid-days', '10']);
    return r.field('attestation')!;
  }

  it('reports a valid attestation with its authority and validity', async () => {
    const r = await qpc(['fapp', 'verify-attestation', await issued(), '--therapist-key', keyHex]);
    expect(r.code).toBe(0);
    expect(r.field('authority')).toBe(demoAuthority().name);
    expect(r.field('fachrichtungen')).toBe('Verhaltenstherapie');
  });

  it('refuses an attestation for another therapist, an expired one, and a tampered one (exit 1)', async () => {
    const att = await issued();
    const other = await qpc(['fapp', 'verify-attestation', att, '--therapist-key', toHex(generateSigningKeyPair().publicKey)]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/ATTESTATION_MISMATCH/);
    const expired = await qpc(['fapp', 'verify-attestation', att, '--therapist-key', keyHex], NOW + 11 * DAY);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toMatch(/ATTESTATION_EXPIRED/);
    const bytes = Buffer.from(att, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    const tampered = await qpc(['fapp', 'verify-attestation', bytes.toString('base64url'), '--therapist-key', keyHex]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/BAD_SIGNATURE|MALFORMED/);
  });

  it('refuses bytes that are no attestation at all, and a missing file', async () => {
    const junk = await qpc(['fapp', 'verify-attestation', Buffer.from('hello world').toString('base64url'), '--therapist-key', keyHex]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/^invalid: /);
    const missing = await qpc(['fapp', 'verify-attestation', `@${join(dir, 'nope.txt')}`, '--therapist-key', keyHex]);
    expect(missing.code).toBe(EX_USAGE);
    expect(missing.stderr).toMatch(/cannot read/);
  });
});

describe('qpc help', () => {
  it('lists the fapp commands', async () => {
    const r = await qpc(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fapp attest --therapist-key/);
    expect(r.stdout).toMatch(/fapp verify-attestation/);
  });
});
