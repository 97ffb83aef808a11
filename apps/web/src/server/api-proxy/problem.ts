/** RFC 9457 problem details, shaped like the API server's own (`urn:qpc:problem:<code>`). */
export function problemResponse(status: number, code: string, title: string, detail?: string): Response {
  const body = { type: `urn:qpc:problem:${code}`, title, status, code, ...(detail ? { detail } : {}) };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
  });
}
