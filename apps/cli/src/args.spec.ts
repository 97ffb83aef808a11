import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.js';

describe('qpc command line', () => {
  it('defaults to help', () => {
    expect(parseCommand([])).toEqual({ kind: 'help' });
    expect(parseCommand(['--version'])).toEqual({ kind: 'version' });
  });

  it('parses health with an API URL', () => {
    expect(parseCommand(['health'])).toEqual({ kind: 'health', api: 'http://127.0.0.1:3000' });
    expect(parseCommand(['health', '--api', 'http://127.0.0.1:9'])).toEqual({ kind: 'health', api: 'http://127.0.0.1:9' });
  });

  it('rejects unknown commands and bad options with usage', () => {
    expect(() => parseCommand(['frobnicate'])).toThrow(UsageError);
    expect(() => parseCommand(['health', '--api', 'ftp://x'])).toThrow(/http/);
    expect(() => parseCommand(['health', '--bogus'])).toThrow(/usage: qpc/);
  });
});
