import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ApiError, type Conversation, type IncomingEvent, type QpcClient } from '@qpc/sdk';
import type { AccountOptions } from './args.js';
import { complete, findCommand, helpText, splitWords, unknownCommandMessage } from './commands.js';
import { describeError, EXIT } from './exit.js';
import { connect } from './session.js';

export interface ReplIo {
  input: Readable;
  output: Writable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

const HISTORY_FILE = 'repl_history';
const HISTORY_SIZE = 500;
const RETRY_MS = 2000;

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `qpc repl`: the interactive messenger. Resolves with the exit code. */
export async function runRepl(a: AccountOptions, io: ReplIo): Promise<number> {
  const color = io.output.isTTY === true && !io.env.NO_COLOR;
  const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[22m` : s);
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[22m` : s);
  const raw = (s: string) => io.output.write(`${s}\n`);

  // Log in, retrying while the server cannot be reached.
  let conn: Awaited<ReturnType<typeof connect>> | undefined;
  let told = false;
  while (!conn) {
    try {
      conn = await connect(a);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'network') {
        if (!told) raw(`cannot reach ${a.server}, retrying`);
        told = true;
        await wait(RETRY_MS);
        continue;
      }
      const d = describeError(e, a.server);
      raw(`qpc: ${d.message}`);
      return d.code;
    }
  }
  const { client, store } = conn;
  const repl = new Repl(client, a, store.dir, io, { dim, bold });
  raw(dim(`${conn.registered ? 'registered' : 'logged in as'} ${a.user} on ${a.server} (device ${client.deviceId!.slice(0, 8)}); /help lists the commands`));
  return repl.run();
}

class Repl {
  private current: string | undefined;
  private rl!: Interface;
  private link: 'starting' | 'up' | 'down' = 'starting';
  private readonly knownUsers = new Set<string>();
  private done!: (code: number) => void;

  constructor(
    private readonly client: QpcClient,
    private readonly a: AccountOptions,
    private readonly dir: string,
    private readonly io: ReplIo,
    private readonly style: { dim: (s: string) => string; bold: (s: string) => string },
  ) {
    this.current = client.conversations().find((c) => c.active)?.id;
    for (const c of client.conversations()) for (const m of c.members) if (m !== a.user) this.knownUsers.add(m);
  }

  async run(): Promise<number> {
    const history = await this.loadHistory();
    this.rl = createInterface({
      input: this.io.input,
      output: this.io.output,
      terminal: this.io.output.isTTY === true,
      history,
      historySize: HISTORY_SIZE,
      completer: (line: string) => complete(line, { users: () => [...this.knownUsers], conversations: () => this.client.conversations().map((c) => c.name) }),
    });
    const finished = new Promise<number>((r) => (this.done = r));
    const sub = this.client.subscribe((events) => this.onEvents(events), {
      onStatus: ({ connected, final }) => {
        if (final) {
          this.say(final === 'device_revoked' ? 'this device was revoked for the account; leaving' : 'the server ended this session; start qpc repl again');
          this.done(EXIT.NO_PERM);
          return;
        }
        if (!connected && this.link !== 'down') this.say(`cannot reach ${this.a.server}, retrying`);
        if (connected && this.link !== 'up') this.say(this.style.dim(`* connected to ${this.a.server}`));
        this.link = connected ? 'up' : 'down';
      },
    });
    let queue = Promise.resolve();
    this.rl.on('line', (line) => {
      // One line at a time, in order (a send must not overtake the /dm before it).
      queue = queue.then(() => this.onLine(line.trim())).catch((e: unknown) => this.say(`error: ${describeError(e, this.a.server).message}`));
    });
    this.rl.on('close', () => this.done(EXIT.OK));
    this.rl.on('SIGINT', () => this.rl.close());
    this.prompt();
    const code = await finished;
    sub.close();
    this.rl.close();
    return code;
  }

  private prompt(): void {
    const c = this.current ? this.client.conversation(this.current) : undefined;
    this.rl.setPrompt(`${this.a.user}${c ? `@${c.kind === 'group' ? '#' : ''}${c.name}` : ''}> `);
    this.rl.prompt(true);
  }

  /** Prints a line above the prompt without losing what is being typed. */
  private say(line: string): void {
    if (this.io.output.isTTY) {
      this.io.output.write('\r\x1b[2K');
      this.io.output.write(`${line}\n`);
      this.rl?.prompt(true);
    } else this.io.output.write(`${line}\n`);
  }

  private async loadHistory(): Promise<string[]> {
    try {
      return (await readFile(join(this.dir, HISTORY_FILE), 'utf8')).split('\n').filter(Boolean).slice(-HISTORY_SIZE).reverse();
    } catch {
      return [];
    }
  }

  /** Only commands go into the history file: message text never lands on disk unencrypted. */
  private async saveHistory(line: string): Promise<void> {
    await appendFile(join(this.dir, HISTORY_FILE), `${line.replace(/\n/g, ' ')}\n`, { mode: 0o600 }).catch(() => undefined);
  }

  private name(c: Conversation | undefined, id: string): string {
    return c ? (c.kind === 'group' ? `#${c.name}` : c.name) : id.slice(0, 8);
  }

  private onEvents(events: IncomingEvent[]): void {
    for (const e of events) {
      switch (e.kind) {
        case 'conversation': {
          const c = e.conversation;
          for (const m of c.members) if (m !== this.a.user) this.knownUsers.add(m);
          this.say(this.style.dim(c.kind === 'dm' ? `* ${c.name} started a conversation with you` : `* #${c.name}: ${c.members.join(', ')}`));
          if (!this.current) {
            this.current = c.id;
            this.prompt();
          }
          break;
        }
        case 'message': {
          if (e.sender) this.knownUsers.add(e.sender);
          const who = `[${e.sender || '?'}${e.verified ? '' : '?'}]`;
          const line = `${this.style.bold(who)} ${e.text}`;
          if (e.groupId === this.current) this.say(line);
          else this.say(`${this.style.dim(this.name(this.client.conversation(e.groupId), e.groupId))} ${line}`);
          break;
        }
        case 'commit':
          if (e.removed) this.say(this.style.dim(`* you were removed from ${this.name(this.client.conversation(e.groupId), e.groupId)}`));
          break;
        case 'gap':
          this.say(this.style.dim(`* warning: messages ${e.expected}–${e.got - 1} are missing`));
          break;
        case 'error':
          this.say(this.style.dim(`* a message could not be read (${e.code})`));
          break;
        case 'joined':
          break;
      }
    }
  }

  private async onLine(line: string): Promise<void> {
    if (line === '') return this.prompt();
    if (!line.startsWith('/')) {
      await this.send(line);
      return this.prompt();
    }
    await this.saveHistory(line);
    const [head, ...args] = splitWords(line);
    const name = head!.slice(1);
    const cmd = findCommand(name);
    if (!cmd) {
      this.say(unknownCommandMessage(name));
      return this.prompt();
    }
    if (args.length < cmd.arity[0] || args.length > cmd.arity[1]) {
      this.say(`usage: /${cmd.name}${cmd.args ? ` ${cmd.args}` : ''}`);
      return this.prompt();
    }
    try {
      await this.exec(cmd.name, args);
    } catch (e) {
      this.say(this.explain(e, args[0]));
    }
    this.prompt();
  }

  private explain(e: unknown, arg: string | undefined): string {
    if (e instanceof UserMessage) return e.message;
    if (e instanceof ApiError && e.code === 'accounts.not_found') return `no user named "${arg}"`;
    if (e instanceof ApiError && e.code === 'keys.none_available') return `${arg} has no device that can be added right now (no key packages); try again later`;
    if (e instanceof ApiError && e.code === 'delivery.stale_epoch') return 'someone else changed the conversation at the same moment; try again';
    const d = describeError(e, this.a.server);
    return d.code === EXIT.UNAVAILABLE ? `cannot reach ${this.a.server}, retrying` : `error: ${d.message}`;
  }

  private conv(): Conversation {
    const c = this.current ? this.client.conversation(this.current) : undefined;
    if (!c) throw new UserMessage('no conversation selected: /dm <user>, /create-group <name> or /switch <conversation>');
    if (!c.active) throw new UserMessage(`you are no longer a member of ${this.name(c, c.id)}`);
    return c;
  }

  private async send(text: string): Promise<void> {
    let c: Conversation;
    try {
      c = this.conv();
    } catch (e) {
      return this.say((e as Error).message);
    }
    try {
      const r = await this.client.sendText(c.id, text);
      if (r.deliveries === null) this.say(this.style.dim(`* kept in the outbox until ${this.a.server} is reachable`));
    } catch (e) {
      this.say(this.explain(e, undefined));
    }
  }

  private async exec(name: string, args: string[]): Promise<void> {
    const c = this.client;
    switch (name) {
      case 'help':
        return this.say(helpText(args[0]));
      case 'quit':
        this.rl.close();
        return;
      case 'whoami':
        return this.say(`${this.a.user} (account ${c.accountId}), device ${c.deviceId}\nserver ${this.a.server}\ndata ${this.dir}`);
      case 'dm': {
        const user = args[0]!;
        if (user === this.a.user) return this.say('that is you; /dm someone else');
        const id = await c.startDm(user);
        this.knownUsers.add(user);
        this.current = id;
        return this.say(this.style.dim(`* conversation with ${user} (end-to-end encrypted)`));
      }
      case 'create-group': {
        const id = await c.createConversation(args[0]!);
        this.current = id;
        return this.say(this.style.dim(`* created #${args[0]}; /invite <user> to add people`));
      }
      case 'invite': {
        const conv = this.conv();
        if (conv.kind === 'dm') return this.say('this is a 1:1 conversation; /create-group <name> first');
        await c.invite(conv.id, args[0]!);
        this.knownUsers.add(args[0]!);
        return this.say(this.style.dim(`* ${args[0]} added to #${conv.name}`));
      }
      case 'remove': {
        const conv = this.conv();
        if (conv.kind === 'dm') return this.say('this is a 1:1 conversation; nobody to remove');
        if (args[0] === this.a.user) return this.say('you cannot remove yourself');
        await c.removeUser(conv.id, args[0]!);
        return this.say(this.style.dim(`* ${args[0]} removed from #${conv.name}`));
      }
      case 'switch': {
        const list = c.conversations();
        const q = args[0]!.replace(/^#/, '');
        const hit = /^\d+$/.test(q) ? list[Number(q) - 1] : (list.find((x) => x.name === q) ?? list.find((x) => x.id.startsWith(q)));
        if (!hit) return this.say(`no conversation "${args[0]}"; /list shows them`);
        this.current = hit.id;
        return;
      }
      case 'list': {
        const list = c.conversations();
        if (list.length === 0) return this.say('no conversations yet: /dm <user> or /create-group <name>');
        return this.say(
          list
            .map((x, i) => `${x.id === this.current ? '*' : ' '} ${i + 1}. ${this.name(x, x.id)}  ${x.kind === 'dm' ? '1:1' : `${x.members.length} members`}${x.active ? '' : '  (removed)'}`)
            .join('\n'),
        );
      }
      case 'history': {
        const conv = this.current ? c.conversation(this.current) : undefined;
        if (!conv) return this.say('no conversation selected');
        const n = args[0] === undefined ? 20 : Number(args[0]);
        if (!Number.isInteger(n) || n < 1 || n > 1000) return this.say('usage: /history [n], n from 1 to 1000');
        const h = await c.history(conv.id, n);
        if (h.length === 0) return this.say(this.style.dim('(no messages yet)'));
        return this.say(h.map((m) => `${this.style.dim(time(m.sentAt))} [${m.from}${m.verified ? '' : '?'}] ${m.text}`).join('\n'));
      }
      case 'verify': {
        const r = await c.verifyContact(args[0]!);
        const lines = [`${args[0]}: ${r.devices.length} device(s), each proven in the key transparency log (signed tree head, size ${r.treeSize})`];
        for (const d of r.devices) lines.push(`  device ${d.deviceId.slice(0, 8)}  safety number ${d.safetyNumber.join(' ')}`);
        lines.push('Compare the safety number with theirs in person or on a call; equal numbers mean no one is in between.');
        return this.say(lines.join('\n'));
      }
      case 'rotate-keys': {
        const conv = this.conv();
        await c.rotateKeys(conv.id);
        return this.say(this.style.dim(`* new key material for ${this.name(conv, conv.id)}`));
      }
      case 'devices': {
        const sub = args[0] ?? 'list';
        if (sub === 'list') {
          const ds = await c.listDevices();
          return this.say(ds.map((d) => `${d.deviceId === c.deviceId ? '*' : ' '} ${d.deviceId}  ${d.name}${d.revokedAt ? '  (revoked)' : ''}`).join('\n'));
        }
        if (sub === 'add') {
          return this.say(
            `To add a device, run on it:\n  qpc repl -u ${this.a.user} -p <password> --server ${this.a.server} --data-dir <its own directory>\nthen /invite ${this.a.user} in each group here so it joins (new 1:1 conversations include it by themselves). At most five devices.`,
          );
        }
        if (sub === 'rm') {
          const q = args[1];
          if (!q) return this.say('usage: /devices rm <device id or its first characters>');
          const ds = (await c.listDevices()).filter((d) => !d.revokedAt && d.deviceId.startsWith(q));
          if (ds.length !== 1) return this.say(ds.length === 0 ? `no active device ${q}` : `${q} matches several devices; give more characters`);
          if (ds[0]!.deviceId === c.deviceId) return this.say('that is this device; remove it from another one');
          await c.revokeDevice(ds[0]!.deviceId);
          return this.say(this.style.dim(`* device ${ds[0]!.deviceId} revoked`));
        }
        return this.say('usage: /devices list|add|rm <id>');
      }
    }
    throw new Error(`command /${name} is in the table but has no handler`);
  }
}

class UserMessage extends Error {}

function time(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '--:--' : `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
