import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ServerError } from './server-error.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const HTTP_CODES: Record<number, string> = {
  400: 'request.malformed',
  404: 'http.not_found',
  405: 'http.method_not_allowed',
  413: 'request.body_too_large',
  415: 'request.unsupported_media_type',
};

/** A library error that carries its own stable code, mapped to HTTP by `libraryErrorStatus`. */
interface CodedError extends Error {
  code: string;
}

/**
 * Maps library error codes (FappError, CryptoError, …) to HTTP statuses. Features
 * register their library's codes here; anything unregistered is a client error 400.
 */
export const libraryErrorStatus = new Map<string, { prefix: string; status: (code: string) => number }>();

function isCoded(e: unknown): e is CodedError {
  return e instanceof Error && typeof (e as Partial<CodedError>).code === 'string';
}

/** Builds the RFC 9457 body for any thrown value. */
export function toProblem(exception: unknown): { problem: Problem; internal: boolean } {
  if (exception instanceof ServerError) {
    return {
      problem: { type: `urn:qpc:problem:${exception.code}`, title: TITLES[exception.status] ?? 'Error', status: exception.status, code: exception.code, detail: exception.message, ...exception.extra },
      internal: exception.status >= 500,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = HTTP_CODES[status] ?? `http.${status}`;
    const res = exception.getResponse();
    const detail = typeof res === 'string' ? res : typeof (res as { message?: unknown }).message === 'string' ? (res as { message: string }).message : exception.message;
    return { problem: { type: `urn:qpc:problem:${code}`, title: TITLES[status] ?? 'Error', status, code, detail }, internal: status >= 500 };
  }
  if (isCoded(exception)) {
    const mapper = libraryErrorStatus.get(exception.name);
    if (mapper) {
      const status = mapper.status(exception.code);
      const code = `${mapper.prefix}.${exception.code.toLowerCase()}`;
      return { problem: { type: `urn:qpc:problem:${code}`, title: TITLES[status] ?? 'Error', status, code, detail: exception.message }, internal: false };
    }
    // Fastify's own request errors (FST_ERR_CTP_INVALID_MEDIA_TYPE, body too large, bad JSON…).
    const statusCode = (exception as { statusCode?: unknown }).statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      const code = fastifyCode(exception.code, statusCode);
      return { problem: { type: `urn:qpc:problem:${code}`, title: TITLES[statusCode] ?? 'Error', status: statusCode, code, detail: exception.message }, internal: false };
    }
  }
  return {
    problem: { type: 'urn:qpc:problem:internal', title: TITLES[500]!, status: 500, code: 'internal', detail: 'An unexpected error occurred.' },
    internal: true,
  };
}

function fastifyCode(code: string, status: number): string {
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'request.body_too_large';
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'request.unsupported_media_type';
  if (code.startsWith('FST_ERR_CTP')) return 'request.malformed_body';
  return `http.${status}`;
}

/** The one HTTP mapper: every error leaves as application/problem+json, never with a stack. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const { problem, internal } = toProblem(exception);
    if (internal) this.logger.error({ err: exception, route: request.routeOptions?.url }, 'unhandled error');
    void reply.status(problem.status).header('content-type', 'application/problem+json; charset=utf-8').send(problem);
  }
}
