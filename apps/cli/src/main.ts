#!/usr/bin/env node
import { ApiClient, ApiError } from '@qpc/sdk';
import { parseCommand, USAGE, UsageError } from './args.js';

const VERSION = '0.1.0';

async function main(argv: string[]): Promise<number> {
  let cmd;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 64; // EX_USAGE
    }
    throw e;
  }
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'version':
      process.stdout.write(`qpc ${VERSION}\n`);
      return 0;
    case 'health': {
      const api = new ApiClient({ baseUrl: cmd.api });
      try {
        await api.request('GET', '/readyz');
        process.stdout.write(`${cmd.api}: ready\n`);
        return 0;
      } catch (e) {
        const reason = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
        process.stderr.write(`${cmd.api}: not ready (${reason})\n`);
        return 1;
      }
    }
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
