import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.js';
import { complete, helpText, SLASH_COMMANDS, splitWords, suggest, unknownCommandMessage } from './commands.js';

describe('REPL command table', () => {
  it('/help lists every command of the table, with its arguments, and the seed commands are there', () => {
    const help = helpText();
    for (const c of SLASH_COMMANDS) expect(help).toContain(`/${c.name}${c.args ? ` ${c.args}` : ''}`);
    expect(help.split('\n').filter((l) => l.startsWith('  /'))).toHaveLength(SLASH_COMMANDS.length);
    for (const n of ['dm', 'create-group', 'invite', 'remove', 'switch', 'list', 'history', 'verify', 'rotate-keys', 'devices', 'whoami', 'help', 'quit']) {
      expect(SLASH_COMMANDS.map((c) => c.name)).toContain(n);
    }
    expect(helpText('dm')).toMatch(/^\/dm <user>\n {2}Start/);
  });

  it('suggests the nearest command for a typo and says so when nothing is near', () => {
    expect(suggest('hepl')).toBe('help');
    expect(suggest('inivte')).toBe('invite');
    expect(suggest('rot')).toBe('rotate-keys');
    expect(unknownCommandMessage('creat-group')).toBe('unknown command /creat-group — did you mean /create-group?');
    expect(unknownCommandMessage('zzzzzzzzzz')).toMatch(/\/help lists the commands/);
  });

  it('completes commands, then users, conversations and /devices subcommands', () => {
    const sources = { users: () => ['bob', 'bea', 'carol'], conversations: () => ['bob', 'team'] };
    expect(complete('/in', sources)).toEqual([['/invite '], '/in']);
    expect(complete('/dm b', sources)).toEqual([['bea', 'bob'], 'b']);
    expect(complete('/switch t', sources)).toEqual([['team'], 't']);
    expect(complete('/devices r', sources)).toEqual([['rm'], 'r']);
    expect(complete('hello', sources)).toEqual([[], 'hello']);
  });

  it('splits words with quotes', () => {
    expect(splitWords('/create-group "my team"  x')).toEqual(['/create-group', 'my team', 'x']);
  });
});

describe('qpc messenger command lines', () => {
  const env = { HOME: '/home/u' };
  it('parses repl, send, fetch, devices with account options and defaults', () => {
    expect(parseCommand(['repl', '-u', 'alice', '-p', 'secret'], env)).toEqual({
      kind: 'repl',
      account: { user: 'alice', password: 'secret', server: 'http://127.0.0.1:3000', dataDir: '/home/u/.qpc' },
    });
    expect(parseCommand(['send', 'bob', 'Hallo Bob', '-u', 'alice', '--server', 'http://h:1/', '--data-dir', 'd'], { QPC_PASSWORD: 'pw' })).toMatchObject({
      kind: 'send',
      to: 'bob',
      text: 'Hallo Bob',
      account: { password: 'pw', server: 'http://h:1', dataDir: 'd' },
    });
    expect(parseCommand(['fetch', '-u', 'a', '-p', 'b', '--json'], env)).toMatchObject({ kind: 'fetch', json: true });
    expect(parseCommand(['devices', '-u', 'a', '-p', 'b'], env)).toMatchObject({ kind: 'devices', json: false });
  });

  it('every command answers --help', () => {
    for (const c of ['repl', 'send', 'fetch', 'devices', 'health']) expect(parseCommand([c, '--help'])).toEqual({ kind: 'help', topic: c });
    expect(parseCommand(['fapp', 'search', '--help'])).toEqual({ kind: 'help', topic: 'fapp search' });
    expect(parseCommand(['fapp', '--help'])).toEqual({ kind: 'help', topic: 'fapp' });
  });

  it('rejects missing users, passwords and bad options', () => {
    expect(() => parseCommand(['repl', '-p', 'x'])).toThrow(/-u NAME is required/);
    expect(() => parseCommand(['repl', '-u', 'alice'])).toThrow(/PASSWORD/);
    expect(() => parseCommand(['repl', '-u', 'a/b', '-p', 'x'])).toThrow(UsageError);
    expect(() => parseCommand(['repl', '-u', 'a', '-p', 'x', '--bogus'])).toThrow(/unknown option --bogus/);
    expect(() => parseCommand(['send', 'bob', '-u', 'a', '-p', 'x'])).toThrow(/a user and one text/);
    expect(() => parseCommand(['repl', '-u', 'a', '-p', 'x', '--server', 'ftp://x'])).toThrow(/http/);
  });

  it('parses fapp search', () => {
    expect(parseCommand(['fapp', 'search', '--plz', '803', '--fachrichtung', 'verhaltenstherapie', '--json'])).toEqual({
      kind: 'fapp-search',
      server: 'http://127.0.0.1:3000',
      plz: '803',
      fachrichtungen: [1],
      limit: 20,
      json: true,
    });
    expect(() => parseCommand(['fapp', 'search', '--plz', '8'])).toThrow(/2 to 5 digits/);
    expect(() => parseCommand(['fapp', 'search'])).toThrow(/--plz is required/);
    expect(() => parseCommand(['fapp', 'search', '--plz', '80', '--limit', '501'])).toThrow(/1 to 500/);
  });
});
