#!/usr/bin/env node
import { OptionsError, parseNodeOptions } from './options.js';
import { runNode } from './run.js';

// qpc-node: the clinic mesh daemon. JSON lines on stdout; SIGTERM/SIGINT stop it cleanly.
async function main(): Promise<void> {
  let options;
  try {
    options = parseNodeOptions(process.argv.slice(2));
  } catch (e) {
    if (e instanceof OptionsError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(64);
    }
    throw e;
  }
  const running = await runNode(options);
  const stop = (signal: string) => {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event: 'signal', signal })}\n`);
    running.shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event: 'fatal', error: e instanceof Error ? e.message : String(e) })}\n`);
  process.exit(1);
});
