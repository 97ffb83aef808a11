#!/usr/bin/env node
// `qpc-server`: starts the quicprochat server with the settings `npm start` gives it
// (127.0.0.1:3000, embedded PostgreSQL under .data/, the DEMO licensing authority trusted,
// FAPP proof of work 18 bits). Every variable can still be set in the environment.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { demoAuthority } from '@qpc/seed';

const USAGE = `usage: qpc-server [--host HOST] [--port PORT] [--data-dir DIR]

Starts the quicprochat server as npm start does (without the web app).
Defaults: HOST 127.0.0.1, PORT 3000, DATA_DIR <repository>/.data; the DEMO licensing
authority is trusted unless FAPP_AUTHORITIES is set. Ctrl-C stops it.`;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const env = process.env;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  const v = args[i + 1];
  if (a === '--help' || a === '-h') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } else if ((a === '--host' || a === '--port' || a === '--data-dir') && v !== undefined) {
    env[a === '--host' ? 'HOST' : a === '--port' ? 'PORT' : 'DATA_DIR'] = v;
    i++;
  } else {
    process.stderr.write(`qpc-server: unexpected ${JSON.stringify(a)}\n${USAGE}\n`);
    process.exit(64);
  }
}
const demo = demoAuthority();
env.HOST ??= '127.0.0.1';
env.PORT ??= '3000';
env.DATA_DIR ??= join(root, '.data');
env.NODE_ENV ??= 'development';
env.FAPP_AUTHORITIES ??= `${demo.name}=${Buffer.from(demo.keys.publicKey).toString('hex')}`;
env.FAPP_POW_BITS ??= '18';

const main = join(root, 'apps/server/dist/main.js');
if (!existsSync(main)) {
  process.stderr.write(`qpc-server: ${main} is missing; build the server first (npm run build:server)\n`);
  process.exit(69);
}
await import(pathToFileURL(main).href);
