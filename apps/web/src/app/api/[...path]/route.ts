import { forwardToApi } from '../../../server/api-proxy/forward';

// A runtime proxy to the API server: QPC_API_URL is read per request, unlike build-time rewrites.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const GET = forwardToApi;
export const POST = forwardToApi;
export const PUT = forwardToApi;
export const PATCH = forwardToApi;
export const DELETE = forwardToApi;
