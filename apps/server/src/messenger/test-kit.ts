// Test helpers for the messenger's e2e suites: real OPAQUE clients against app.inject.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import * as opaque from '@serenity-kit/opaque';
import { generateSigningKeyPair, sign, type SigningKeyPair, toBase64Url, utf8 } from '@qpc/crypto';

export interface TestUser {
  username: string;
  password: string;
  accountId: string;
  deviceId: string;
  token: string;
  signing: SigningKeyPair;
}

/** Cheaper Argon2 for tests; client registration and login must agree on it. */
export const TEST_STRETCHING = 'memory-constrained' as const;

export async function call(app: NestFastifyApplication, method: 'GET' | 'POST' | 'DELETE' | 'PUT', url: string, body?: unknown, token?: string) {
  return app.inject({
    method,
    url,
    ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
}

export async function registerUser(app: NestFastifyApplication, username: string, password = `pw-${username}`): Promise<TestUser> {
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
  const start = await call(app, 'POST', '/api/v1/accounts/registration/start', { username, registrationRequest });
  if (start.statusCode !== 200) throw new Error(`registration/start ${start.statusCode}: ${start.body}`);
  const { registrationRecord } = opaque.client.finishRegistration({ password, clientRegistrationState, registrationResponse: start.json().registrationResponse, keyStretching: TEST_STRETCHING });
  const signing = generateSigningKeyPair();
  const fin = await call(app, 'POST', '/api/v1/accounts/registration/finish', { username, registrationRecord, device: { name: 'first', signingKey: toBase64Url(signing.publicKey) } });
  if (fin.statusCode !== 201) throw new Error(`registration/finish ${fin.statusCode}: ${fin.body}`);
  const g = fin.json();
  return { username, password, accountId: g.accountId, deviceId: g.deviceId, token: g.token, signing };
}

export type LoginDevice = { kind: 'new'; name?: string; signing?: SigningKeyPair } | { kind: 'existing'; deviceId: string; signing: SigningKeyPair };

/** Full OPAQUE login; returns the raw finish response plus the device key used. */
export async function login(app: NestFastifyApplication, username: string, password: string, device: LoginDevice = { kind: 'new' }) {
  await opaque.ready;
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
  const start = await call(app, 'POST', '/api/v1/sessions/start', { username, startLoginRequest });
  if (start.statusCode !== 200) throw new Error(`sessions/start ${start.statusCode}: ${start.body}`);
  const { loginId, loginResponse } = start.json();
  const fin = opaque.client.finishLogin({ clientLoginState, loginResponse, password, keyStretching: TEST_STRETCHING });
  if (!fin) return { res: null, start, signing: undefined };
  const signing = device.signing ?? generateSigningKeyPair();
  const body =
    device.kind === 'new'
      ? { loginId, finishLoginRequest: fin.finishLoginRequest, device: { name: device.name ?? 'another', signingKey: toBase64Url(signing.publicKey) } }
      : { loginId, finishLoginRequest: fin.finishLoginRequest, deviceId: device.deviceId, deviceSignature: toBase64Url(sign(signing.secretKey, utf8(`qpc-device-login-v1:${loginId}`))) };
  const res = await call(app, 'POST', '/api/v1/sessions/finish', body);
  return { res, start, signing };
}
