import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Proves the boundary rules bite: a scratch tree with the repository's layout gets one
// planted violation per rule, and dependency-cruiser with the project's config must fail.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const depcruise = join(root, 'node_modules/.bin/depcruise');
let scratch: string;

function plant(files: Record<string, string>) {
  const dir = mkdtempSync(join(scratch, 'case-'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  copyFileSync(join(root, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const tops = [...new Set(Object.keys(files).map((p) => p.split('/')[0]!))];
  return spawnSync(depcruise, ['--config', join(root, '.dependency-cruiser.cjs'), ...tops], { cwd: dir, encoding: 'utf8' });
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'qpc-boundaries-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('boundary rules', () => {
  it('the repository itself has no violations', () => {
    const r = spawnSync(depcruise, ['--config', '.dependency-cruiser.cjs', 'libs', 'apps', 'seed', 'bench'], { cwd: root, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('no dependency violations');
    expect(r.status).toBe(0);
  });

  it('fails when a browser-safe library imports a node: built-in', () => {
    const r = plant({ 'libs/crypto/src/index.ts': "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n" });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('browser-lib-imports-node');
  });

  it('allows node: built-ins in *.node.ts provider files', () => {
    const r = plant({ 'libs/crypto/src/provider.node.ts': "import { createHash } from 'node:crypto';\nexport const h = createHash;\n" });
    expect(r.status).toBe(0);
  });

  it('fails when a library imports NestJS or TypeORM', () => {
    const r = plant({ 'libs/mesh/src/index.ts': "import { Injectable } from '@nestjs/common';\nimport { DataSource } from 'typeorm';\nexport { Injectable, DataSource };\n" });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('lib-imports-framework');
  });

  it('fails when a library imports an application', () => {
    const r = plant({
      'apps/server/src/app.ts': 'export const app = 1;\n',
      'libs/fapp/src/index.ts': "import { app } from '../../../apps/server/src/app.js';\nexport const y = app;\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('lib-imports-app');
  });
});
