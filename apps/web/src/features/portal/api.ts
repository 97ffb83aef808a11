// The portal's calls to the API, through this origin's /api proxy. OPAQUE runs here: only its
// messages travel, never the password. The session token goes in the Authorization header.
import { fromBase64Url, sign, toBase64Url, utf8 } from '@qpc/crypto';
import { ApiProblem } from '../fapp/api';
import { accountSecrets, type AccountSecrets } from './keys';

const DEVICE_LOGIN_CONTEXT = 'qpc-device-login-v1:';

type Opaque = typeof import('@serenity-kit/opaque');
let opaqueLoad: Promise<Opaque> | null = null;

/**
 * OPAQUE (WebAssembly, ~450 KiB of script) is loaded on demand: the sign-in form is usable
 * before it arrives, and the form starts the load as soon as the therapist begins typing.
 */
export function loadOpaque(): Promise<Opaque> {
  opaqueLoad ??= import('@serenity-kit/opaque')
    .then(async (m) => {
      await m.ready;
      return m;
    })
    .catch((e: unknown) => {
      opaqueLoad = null;
      throw e;
    });
  return opaqueLoad;
}

async function call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    throw new ApiProblem('network', 0, e instanceof Error ? e.message : 'network error');
  }
  if (!res.ok) {
    let code = `http.${res.status}`;
    let detail = res.statusText;
    try {
      const p = (await res.json()) as { code?: unknown; detail?: unknown };
      if (typeof p.code === 'string') code = p.code;
      if (typeof p.detail === 'string') detail = p.detail;
    } catch {
      // not a problem document
    }
    throw new ApiProblem(code, res.status, detail);
  }
  return res.status === 204 ? (undefined as T) : ((await res.json()) as T);
}

export interface PortalSession {
  username: string;
  accountId: string;
  deviceId: string;
  token: string;
}

export interface SignedIn {
  session: PortalSession;
  secrets: AccountSecrets;
}

/** OPAQUE registration; the portal's device key comes from the export key. */
export async function signUp(username: string, password: string): Promise<SignedIn> {
  const opaque = await loadOpaque();
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
  const { registrationResponse } = await call<{ registrationResponse: string }>('POST', '/accounts/registration/start', { username, registrationRequest });
  const { registrationRecord, exportKey } = opaque.client.finishRegistration({ password, clientRegistrationState, registrationResponse });
  const secrets = accountSecrets(exportKey, username);
  const g = await call<Omit<PortalSession, 'username'>>('POST', '/accounts/registration/finish', {
    username,
    registrationRecord,
    device: { name: 'Praxisportal', signingKey: toBase64Url(secrets.deviceSigning.publicKey) },
  });
  return { session: { username, accountId: g.accountId, deviceId: g.deviceId, token: g.token }, secrets };
}

/** Null for a wrong password (or unknown user: OPAQUE cannot tell them apart, and neither do we). */
export async function signIn(username: string, password: string): Promise<SignedIn | null> {
  const opaque = await loadOpaque();
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
  const { loginId, loginResponse } = await call<{ loginId: string; loginResponse: string }>('POST', '/sessions/start', { username, startLoginRequest });
  const fin = opaque.client.finishLogin({ clientLoginState, loginResponse, password });
  if (!fin) return null;
  const secrets = accountSecrets(fin.exportKey, username);
  // The portal's device is found in the public key-transparency listing by its derived key.
  const listed = await call<{ devices: { deviceId: string; signingKey: string }[] }>('GET', `/transparency/users/${encodeURIComponent(username)}/devices`);
  const mine = toBase64Url(secrets.deviceSigning.publicKey);
  const existing = listed.devices.find((d) => d.signingKey === mine);
  const device = existing
    ? { deviceId: existing.deviceId, deviceSignature: toBase64Url(sign(secrets.deviceSigning.secretKey, utf8(DEVICE_LOGIN_CONTEXT + loginId))) }
    : { device: { name: 'Praxisportal', signingKey: mine } };
  const g = await call<Omit<PortalSession, 'username'>>('POST', '/sessions/finish', { loginId, finishLoginRequest: fin.finishLoginRequest, ...device });
  return { session: { username, accountId: g.accountId, deviceId: g.deviceId, token: g.token }, secrets };
}

export async function signOut(token: string): Promise<void> {
  await call('DELETE', '/sessions/current', undefined, token);
}

export async function getBackup(token: string): Promise<{ ciphertext: Uint8Array; version: number } | null> {
  try {
    const b = await call<{ ciphertext: string; version: number }>('GET', '/key-backup', undefined, token);
    return { ciphertext: fromBase64Url(b.ciphertext), version: b.version };
  } catch (e) {
    if (e instanceof ApiProblem && e.code === 'key_backup.not_found') return null;
    throw e;
  }
}

export async function putBackup(token: string, ciphertext: Uint8Array, version: number, ifVersion: number): Promise<void> {
  await call('PUT', '/key-backup', { ciphertext: toBase64Url(ciphertext), version, ifVersion }, token);
}

export interface AnnounceAccepted {
  therapistId: string;
  sequence: number;
  verified: boolean;
  authority: string | null;
  slots: number;
  expiresAt: string;
}

export function postAnnounce(bytes: Uint8Array): Promise<AnnounceAccepted> {
  return call('POST', '/fapp/announces', { announce: toBase64Url(bytes) });
}

export function postChallenge(): Promise<{ challenge: string; expiresAt: string }> {
  return call('POST', '/fapp/therapist/challenge', {});
}

export interface HeldSlot {
  slotId: string;
  mailboxId: string;
  state: 'held' | 'booked';
  heldUntil: string | null;
  reservation: string;
}

export function listReservations(therapistKey: Uint8Array, challenge: string, signature: Uint8Array): Promise<{ reservations: HeldSlot[] }> {
  return call('POST', '/fapp/therapist/reservations', { therapistKey: toBase64Url(therapistKey), challenge, signature: toBase64Url(signature) });
}

export function postAnswer(bytes: Uint8Array): Promise<{ decision: 'confirmed' | 'declined' }> {
  return call('POST', '/fapp/therapist/answers', { answer: toBase64Url(bytes) });
}

export async function postRelease(bytes: Uint8Array): Promise<void> {
  await call('POST', '/fapp/therapist/releases', { release: toBase64Url(bytes) });
}
