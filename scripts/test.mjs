#!/usr/bin/env node
// `npm test`: builds what the tests run against (protobuf code, libraries, server, web),
// then runs every vitest tier (unit, integration, end-to-end incl. Chromium) once.
// Database: embedded PGlite, or PostgreSQL when TEST_DATABASE_URL is set.
// Prints `N passed, N failed` as its last line; the JSON report lands in .test-reports/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const backend = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';

function run(cmd, cmdArgs, extraEnv = {}) {
  const res = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, env: { ...process.env, ...extraEnv } });
  return res.status ?? 1;
}

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
if (!chromium) {
  const msg = 'No Chromium found (set CHROMIUM_PATH or `apt-get install -y chromium`).';
  if (process.env.CI === 'true') {
    console.error(`\n!!! ${msg} Browser tests cannot run under CI=true: failing.\n`);
    process.exit(1);
  }
  console.error(`\n${'!'.repeat(78)}\n!!! ${msg}\n!!! The browser end-to-end tests will be SKIPPED. Everything else runs.\n${'!'.repeat(78)}\n`);
}

if (!args.includes('--no-build')) {
  console.log('» building (protobuf, libraries, server, web)…');
  if (run('npm', ['run', 'build', '--silent']) !== 0) {
    console.error('build failed');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const reports = join(root, '.test-reports');
mkdirSync(reports, { recursive: true });
const report = join(reports, `vitest-${backend}.json`);
console.log(`» running tests on ${backend}…`);
const status = run(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args.filter((a) => a !== '--no-build')],
  { TZ: process.env.TZ ?? 'UTC', NEXT_TELEMETRY_DISABLED: '1' },
);

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests ?? 0;
  // A suite that failed without a failing test (it could not load, or a hook threw) counts once.
  const brokenSuites = (r.testResults ?? []).filter(
    (suite) => suite.status === 'failed' && !(suite.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  failed = (r.numFailedTests ?? 0) + brokenSuites;
  if (status !== 0 && failed === 0) failed = 1; // e.g. an unhandled error outside any test
} else if (status !== 0) {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(status === 0 && failed === 0 ? 0 : 1);
