import { type LoggerService } from '@nestjs/common';
import { pino, type Logger, type DestinationStream } from 'pino';
import { requestContext } from './request-context.js';

/** Keys whose values never reach a log line, at the top of a log object or one level down. */
const SECRET_KEYS = new Set(['authorization', 'headers', 'password', 'secret']);
const CENSOR = '[redacted]';

/** `o` with the values under SECRET_KEYS replaced by CENSOR (a copy only if there is one). */
function censorOwn<T extends Record<string, unknown>>(o: T): T {
  let out: Record<string, unknown> | undefined;
  for (const k in o) {
    if (SECRET_KEYS.has(k) && Object.hasOwn(o, k)) (out ??= { ...o })[k] = CENSOR;
  }
  return (out ?? o) as T;
}

/**
 * The log object with the values under SECRET_KEYS censored, at its top level and in each object
 * one level down (arrays and byte arrays are not walked). Nothing is copied when nothing is found
 * (a request line costs no garbage), and the caller's objects are never changed. An error under
 * `err` is left to its serializer, which censors what it makes of it.
 */
export function censorSecrets<T extends Record<string, unknown>>(obj: T): T {
  let out: Record<string, unknown> | undefined;
  for (const k in obj) {
    if (!Object.hasOwn(obj, k)) continue;
    const v = obj[k];
    if (SECRET_KEYS.has(k)) (out ??= { ...obj })[k] = CENSOR;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(k === 'err' && v instanceof Error)) {
      const c = censorOwn(v as Record<string, unknown>);
      if (c !== v) (out ??= { ...obj })[k] = c;
    }
  }
  return (out ?? obj) as T;
}

/**
 * Structured JSON logs. Request lines carry only method, route pattern, status and
 * duration: no IP address, user agent, query string or body is ever logged. Secrets under
 * `authorization`, `headers`, `password` or `secret` are censored at the top of a line's object
 * and one level down, at the top of a child logger's bindings, and in a logged error.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'qpc-server' },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin() {
        const ctx = requestContext.getStore();
        return ctx ? { reqId: ctx.reqId } : {};
      },
      // Top-level keys through pino's redaction as well: it also covers a child logger's
      // bindings, and costs nothing on a line without such a key. Wildcard paths (`*.password`)
      // would run it on every value of every line, re-parsing its paths and copying the line.
      redact: { paths: [...SECRET_KEYS], censor: CENSOR },
      formatters: { log: censorSecrets },
      serializers: { err: (e: Error) => censorSecrets(pino.stdSerializers.err(e) as unknown as Record<string, unknown>) },
    },
    destination,
  );
}

/** Routes Nest's own log calls into pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
