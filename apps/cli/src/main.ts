#!/usr/bin/env node
import { run } from './run.js';

run(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  stdin: process.stdin,
  stdoutStream: process.stdout,
}).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`qpc: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(70); // EX_SOFTWARE
  },
);
