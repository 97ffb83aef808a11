export const dynamic = 'force-dynamic';

/** Liveness of the web app itself (not of the API server behind it). */
export function GET(): Response {
  return Response.json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } });
}
