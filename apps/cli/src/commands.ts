/**
 * The REPL's slash commands: one table drives dispatch, /help and tab completion. A later
 * feature (files, disappearing messages, export, block, recovery, reactions…) adds its row here.
 */
export type ArgKind = 'user' | 'conversation' | 'devices' | 'command' | 'none' | 'number';

export interface SlashCommand {
  name: string;
  /** Argument synopsis for help, e.g. `<user>`. */
  args: string;
  summary: string;
  /** What the first argument completes to. */
  complete: ArgKind;
  /** Smallest and largest number of arguments. */
  arity: [number, number];
}

export const SLASH_COMMANDS: readonly SlashCommand[] = [
  { name: 'dm', args: '<user>', summary: 'Start (or switch to) a 1:1 conversation', complete: 'user', arity: [1, 1] },
  { name: 'create-group', args: '<name>', summary: 'Create a group and switch to it', complete: 'none', arity: [1, 1] },
  { name: 'invite', args: '<user>', summary: 'Add a user (all their devices) to the current group', complete: 'user', arity: [1, 1] },
  { name: 'remove', args: '<user>', summary: 'Remove a user from the current group', complete: 'user', arity: [1, 1] },
  { name: 'switch', args: '<conversation>', summary: 'Make a conversation current (name or number from /list)', complete: 'conversation', arity: [1, 1] },
  { name: 'list', args: '', summary: 'List conversations', complete: 'none', arity: [0, 0] },
  { name: 'history', args: '[n]', summary: 'Show the last n messages of the current conversation (default 20)', complete: 'number', arity: [0, 1] },
  { name: 'verify', args: '<user>', summary: 'Safety numbers and key transparency check for a user', complete: 'user', arity: [1, 1] },
  { name: 'rotate-keys', args: '', summary: 'Rotate MLS key material of the current conversation', complete: 'none', arity: [0, 0] },
  { name: 'devices', args: 'list|add|rm <id>', summary: 'Manage your devices', complete: 'devices', arity: [0, 2] },
  { name: 'whoami', args: '', summary: 'Show account, device, server and data directory', complete: 'none', arity: [0, 0] },
  { name: 'help', args: '[command]', summary: 'Full command reference', complete: 'command', arity: [0, 1] },
  { name: 'quit', args: '', summary: 'Leave the REPL', complete: 'none', arity: [0, 0] },
];

export function findCommand(name: string): SlashCommand | undefined {
  return SLASH_COMMANDS.find((c) => c.name === name);
}

/** The help text, generated from the table. */
export function helpText(topic?: string): string {
  if (topic) {
    const c = findCommand(topic.replace(/^\//, ''));
    if (!c) return `no command /${topic.replace(/^\//, '')}${suggestionSuffix(topic)}`;
    return `/${c.name}${c.args ? ` ${c.args}` : ''}\n  ${c.summary}`;
  }
  const rows = SLASH_COMMANDS.map((c) => [`/${c.name}${c.args ? ` ${c.args}` : ''}`, c.summary] as const);
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  return ['Commands:', ...rows.map(([a, s]) => `  ${a.padEnd(width)}${s}`), 'Anything else you type is sent to the current conversation.'].join('\n');
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest command name (prefix match first, then edit distance ≤ 3). */
export function suggest(name: string): string | undefined {
  const n = name.replace(/^\//, '').toLowerCase();
  const prefixed = SLASH_COMMANDS.find((c) => c.name.startsWith(n) || n.startsWith(c.name));
  if (prefixed && n.length > 0) return prefixed.name;
  let best: { name: string; d: number } | undefined;
  for (const c of SLASH_COMMANDS) {
    const d = distance(n, c.name);
    if (!best || d < best.d) best = { name: c.name, d };
  }
  return best && best.d <= 3 ? best.name : undefined;
}

function suggestionSuffix(name: string): string {
  const s = suggest(name);
  return s ? ` — did you mean /${s}?` : ' — /help lists the commands';
}

export function unknownCommandMessage(name: string): string {
  return `unknown command /${name.replace(/^\//, '')}${suggestionSuffix(name)}`;
}

/** Splits a command line into words; "double quotes" keep spaces. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

/** readline completer: commands after `/`, then the first argument by its kind. */
export function complete(line: string, sources: { users: () => string[]; conversations: () => string[] }): [string[], string] {
  if (!line.startsWith('/')) return [[], line];
  const space = line.indexOf(' ');
  if (space < 0) {
    const hits = SLASH_COMMANDS.map((c) => `/${c.name}`).filter((n) => n.startsWith(line));
    return [hits.length > 0 ? hits.map((h) => `${h} `) : [], line];
  }
  const cmd = findCommand(line.slice(1, space));
  const partial = line.slice(space + 1);
  if (!cmd || partial.includes(' ')) return [[], partial];
  const pool =
    cmd.complete === 'user' ? sources.users() : cmd.complete === 'conversation' ? sources.conversations() : cmd.complete === 'devices' ? ['list', 'add', 'rm'] : cmd.complete === 'command' ? SLASH_COMMANDS.map((c) => c.name) : [];
  return [[...new Set(pool)].filter((p) => p.startsWith(partial)).sort(), partial];
}
