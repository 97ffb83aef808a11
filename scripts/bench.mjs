#!/usr/bin/env node
// `npm run bench -- <name> [args]` runs bench/src/<name>.ts straight from source.
// Every benchmark prints the project's figure beside a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const available = readdirSync(join(root, 'bench/src'))
  .filter((f) => f.endsWith('.ts') && !f.includes('.spec.') && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(name ? 2 : 0);
}
const res = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', '@swc-node/register/esm-register', join(root, 'bench/src', `${name}.ts`), ...rest],
  { stdio: 'inherit', cwd: root, env: { ...process.env, SWC_NODE_PROJECT: join(root, 'bench/tsconfig.json') } },
);
process.exit(res.status ?? 1);
