import './v8-flags.js';
import 'reflect-metadata';
import { resolve } from 'node:path';
import { createApp } from './app.js';
import { createLogger } from './common/logger.js';
import { ConfigError, loadConfig, type ServerConfig } from './config/config.js';
import { type EmbeddedDatabaseThread, startEmbeddedDatabaseThread } from './database/embedded.js';

async function main() {
  let config: ServerConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`qpc-server: ${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const logger = createLogger(config.LOG_LEVEL);

  let embedded: EmbeddedDatabaseThread | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    const dataDir = resolve(config.DATA_DIR, 'pglite');
    embedded = await startEmbeddedDatabaseThread({ dataDir, port: config.EMBEDDED_DB_PORT });
    databaseUrl = embedded.url;
    logger.info({ dataDir }, 'embedded database started');
  }

  const { app } = await createApp({ config, databaseUrl, logger });
  await app.listen({ host: config.HOST, port: config.PORT });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info({ url: `http://${config.HOST}:${port}` }, 'listening');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: draining requests');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    try {
      await app.close(); // stops accepting, waits for in-flight requests, closes the DB pool
      await embedded?.stop();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`qpc-server: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
