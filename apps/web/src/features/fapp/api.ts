// The patient pages' calls to the API (through this origin's /api proxy). No cookies, no
// credentials, no query string carrying anything the patient typed.
import { fromBase64Url, toBase64Url } from '@qpc/crypto';
import { ApiProblem } from './text';

export { ApiProblem };


const BASE = '/api/v1/fapp';

async function call(path: string, init: RequestInit & { signal?: AbortSignal }): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${BASE}${path}`, { ...init, credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
  } catch (e) {
    if (init.signal?.aborted) throw e;
    throw new ApiProblem('network', 0, e instanceof Error ? e.message : 'network error');
  }
  if (res.ok) return res;
  let code = `http.${res.status}`;
  let detail = res.statusText;
  try {
    const body = (await res.json()) as { code?: unknown; detail?: unknown; title?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.detail === 'string') detail = body.detail;
    else if (typeof body.title === 'string') detail = body.title;
  } catch {
    // not a problem document
  }
  throw new ApiProblem(code, res.status, detail);
}

const json = { 'content-type': 'application/json', accept: 'application/json' };

export interface RegionPage {
  announces: Uint8Array[];
  unavailable: { therapistId: string; slotId: string }[];
  nextCursor: string | null;
}

/** One page of a region sync. The path names only the 2-digit region; nothing else is sent. */
export async function fetchRegionPage(region: string, cursor: string | null, signal?: AbortSignal): Promise<RegionPage> {
  if (!/^\d{2}$/.test(region)) throw new Error('a region is exactly two digits');
  const query = new URLSearchParams({ limit: '200' });
  if (cursor) query.set('cursor', cursor);
  const res = await call(`/regions/${region}/announces?${query}`, { method: 'GET', headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  const body = (await res.json()) as { announces: string[]; unavailable: { therapistId: string; slotId: string }[]; nextCursor: string | null };
  return { announces: body.announces.map((a) => fromBase64Url(a)), unavailable: body.unavailable, nextCursor: body.nextCursor };
}

export async function postReservation(bytes: Uint8Array): Promise<{ mailboxId: string; heldUntil: string }> {
  const res = await call('/reservations', { method: 'POST', headers: json, body: JSON.stringify({ reservation: toBase64Url(bytes) }) });
  return (await res.json()) as { mailboxId: string; heldUntil: string };
}

export type MailboxStatus = 'pending' | 'confirmed' | 'declined' | 'cancelled' | 'released' | 'expired';

export interface Mailbox {
  status: MailboxStatus;
  therapistId: string;
  slotId: string;
  heldUntil: string | null;
  reply: Uint8Array | null;
}

/** The capability travels in a header, never in the URL (URLs end up in logs). */
export async function fetchMailbox(capability: Uint8Array, signal?: AbortSignal): Promise<Mailbox> {
  const res = await call('/mailbox', {
    method: 'GET',
    headers: { accept: 'application/json', 'x-mailbox-capability': toBase64Url(capability) },
    ...(signal ? { signal } : {}),
  });
  const body = (await res.json()) as Omit<Mailbox, 'reply'> & { reply: string | null };
  return { ...body, reply: body.reply ? fromBase64Url(body.reply) : null };
}

export async function postCancel(bytes: Uint8Array): Promise<void> {
  await call('/reservations/cancel', { method: 'POST', headers: json, body: JSON.stringify({ cancel: toBase64Url(bytes) }) });
}
