import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module.js';
import { createLogger, PinoNestLogger } from './common/logger.js';
import { ProblemFilter } from './common/problem.filter.js';
import { acceptProtobufBodies } from './common/protobuf-body.js';
import { requestContext } from './common/request-context.js';
import { createValidationPipe } from './common/validation.js';
import type { Clock } from './common/clock.js';
import type { ServerConfig } from './config/config.js';
import { migrate } from './database/data-source.js';
import { FAPP_PROTOBUF_BODY_ROUTES } from './fapp/fapp.controller.js';
import { Metrics } from './metrics/metrics.js';

export const API_PREFIX = 'api/v1';
/** Routes (under API_PREFIX) that also take an `application/protobuf` body. */
const PROTOBUF_BODY_ROUTES = [...FAPP_PROTOBUF_BODY_ROUTES];
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface CreateAppOptions {
  config: ServerConfig;
  databaseUrl: string;
  logger?: Logger;
  clock?: Clock;
}

export interface App {
  app: NestFastifyApplication;
  logger: Logger;
}

/** Builds the fully configured application (not yet listening). Used by main.ts and the tests. */
export async function createApp({ config, databaseUrl, logger = createLogger(config.LOG_LEVEL), clock }: CreateAppOptions): Promise<App> {
  const adapter = new FastifyAdapter({
    logger: false,
    trustProxy: false,
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ config, databaseUrl, ...(clock ? { clock } : {}) }), adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    bufferLogs: false,
    abortOnError: false,
  });

  const metrics = app.get(Metrics);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    requestContext.run({ reqId: req.id }, done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    // The route pattern, never the URL: a query string may hold a patient's search.
    const route = req.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, seconds);
    logger.info({ reqId: req.id, method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    done();
  });

  app.setGlobalPrefix(API_PREFIX, { exclude: ['healthz', 'readyz', 'metrics'] });
  acceptProtobufBodies(
    fastify,
    PROTOBUF_BODY_ROUTES.map((r) => `/${API_PREFIX}/${r}`),
    config.BODY_LIMIT_BYTES,
  );
  app.useGlobalFilters(new ProblemFilter(logger));
  app.useGlobalPipes(createValidationPipe());

  const doc = new DocumentBuilder()
    .setTitle('quicprochat API')
    .setDescription('Messenger delivery, FAPP appointment discovery and reservation. Errors are RFC 9457 problem+json with a stable `code`.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, doc), {
    jsonDocumentUrl: 'api/docs/openapi.json',
    yamlDocumentUrl: 'api/docs/openapi.yaml',
  });

  if (config.DB_MIGRATE) {
    const applied = await migrate(app.get(DataSource));
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }
  // Push (/api/v1/ws) runs on the ws package; without this Nest would look for socket.io. A
  // frame is bounded like a request body (ws would take up to 100 MiB): a larger one closes the
  // socket with 1009.
  app.useWebSocketAdapter(new BoundedWsAdapter(app, config.BODY_LIMIT_BYTES));
  await app.init();
  return { app, logger };
}

class BoundedWsAdapter extends WsAdapter {
  constructor(
    app: NestFastifyApplication,
    private readonly maxPayload: number,
  ) {
    super(app);
  }

  override create(port: number, options?: Record<string, unknown>) {
    return super.create(port, { ...options, maxPayload: this.maxPayload });
  }
}
