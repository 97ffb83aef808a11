#!/usr/bin/env node
import { queryControl } from './control-client.js';
import { OptionsError, parseCli } from './options.js';

// qpc-node: the clinic mesh daemon. JSON lines on stdout; SIGTERM/SIGINT stop it cleanly.
async function main(): Promise<void> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (e) {
    if (e instanceof OptionsError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(64);
    }
    throw e;
  }
  if (cli.command !== 'start') {
    try {
      process.stdout.write(await queryControl(cli.command, cli.control));
    } catch (e) {
      process.stderr.write(`qpc-node ${cli.command}: ${e instanceof Error ? e.message : String(e)} (is a node running with --control?)\n`);
      process.exit(69);
    }
    return;
  }
  // The node (libp2p and all) is loaded only to start one.
  const { runNode } = await import('./run.js');
  const running = await runNode(cli.options);
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
