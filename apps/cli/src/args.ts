/** The commands `qpc` understands; each later feature adds its own. */
export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'health'; api: string };

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: qpc <command> [options]

commands:
  health [--api URL]   check that a quicprochat server is up and ready (default http://127.0.0.1:3000)
  version              print the version
  help                 this text`;

export function parseCommand(argv: string[]): Command {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help' };
    case 'version':
    case '--version':
      return { kind: 'version' };
    case 'health': {
      let api = 'http://127.0.0.1:3000';
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--api' && rest[i + 1]) api = rest[++i]!;
        else throw new UsageError(`health: unexpected ${JSON.stringify(rest[i])}\n${USAGE}`);
      }
      if (!/^https?:\/\//.test(api)) throw new UsageError(`--api must be an http(s) URL\n${USAGE}`);
      return { kind: 'health', api };
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
  }
}
