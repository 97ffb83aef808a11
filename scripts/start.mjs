#!/usr/bin/env node
// `npm start`: builds what is missing, starts the server (with its embedded PostgreSQL
// unless DATABASE_URL is set) and the web app, loads the demo data on the first run,
// prints the URLs, and stops everything cleanly on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const host = '127.0.0.1';
const apiPort = Number(process.env.PORT ?? 3000);
const webPort = Number(process.env.WEB_PORT ?? 3001);
const apiUrl = `http://${host}:${apiPort}`;
const webUrl = `http://${host}:${webPort}`;
const dataDir = process.env.DATA_DIR ?? join(root, '.data');

function step(label, cmd, args) {
  console.log(`» ${label}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: process.env });
  if (r.status !== 0) {
    console.error(`✗ ${label} failed`);
    process.exit(r.status ?? 1);
  }
}

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === '.next' || entry.name === 'dist') continue;
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

// Builds: the fast ones always run (incremental), Next only when its sources changed.
step('generating protobuf code', 'npm', ['run', '--silent', 'build:proto']);
step('building libraries', 'npm', ['run', '--silent', 'build:libs']);
step('building server', 'npm', ['run', '--silent', 'build:server']);
const buildId = join(root, 'apps/web/.next/BUILD_ID');
const webSources = Math.max(newestMtime(join(root, 'apps/web/src')), newestMtime(join(root, 'libs')));
if (!existsSync(buildId) || statSync(buildId).mtimeMs < webSources) step('building web app', 'npm', ['run', '--silent', 'build:web']);

// The demo licensing authority (a public demo key, not a real Kammer) is trusted by default.
const { demoAuthority } = await import('../seed/dist/index.js');
const demo = demoAuthority();
const authorities = process.env.FAPP_AUTHORITIES ?? `${demo.name}=${Buffer.from(demo.keys.publicKey).toString('hex')}`;
const powBits = process.env.FAPP_POW_BITS ?? '18';

const children = [];
function start(name, cmd, args, env, cwd = root) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (line) => `${name.padEnd(6)}| ${line}`;
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l) console.log(prefix(l));
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`✗ ${name} exited (${signal ?? code}); stopping`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\n» stopping…');
  await Promise.all(
    children.map(
      (c) =>
        new Promise((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          c.once('exit', res);
          c.kill('SIGTERM');
        }),
    ),
  );
  console.log('» stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

async function waitFor(url, what, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  console.error(`✗ ${what} did not become ready at ${url}`);
  await stop(1);
}

start('server', process.execPath, ['apps/server/dist/main.js'], { HOST: host, PORT: String(apiPort), DATA_DIR: dataDir, NODE_ENV: process.env.NODE_ENV ?? 'development', FAPP_AUTHORITIES: authorities, FAPP_POW_BITS: powBits });
await waitFor(`${apiUrl}/readyz`, 'server');

step('loading demo data', process.execPath, ['seed/dist/load.js', '--api', apiUrl, '--data-dir', dataDir]);

start('web', process.execPath, [join(root, 'node_modules/next/dist/bin/next'), 'start', '-H', host, '-p', String(webPort)], { QPC_API_URL: apiUrl, QPC_FAPP_AUTHORITIES: authorities, QPC_FAPP_POW_BITS: powBits, QPC_DEMO: process.env.QPC_DEMO ?? '1', NEXT_TELEMETRY_DISABLED: '1' }, join(root, 'apps/web'));
await waitFor(`${webUrl}/healthz`, 'web');

console.log(`
  quicprochat is running
    Web (patients, therapists)  ${webUrl}
    API                          ${apiUrl}/api/v1
    API documentation            ${apiUrl}/api/docs
    Health / metrics             ${apiUrl}/readyz  ${apiUrl}/metrics
    Data                         ${dataDir}
  Ctrl-C stops everything.
`);
