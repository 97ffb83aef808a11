import { connect, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDatabase, startEmbeddedDatabase } from './embedded.js';

let db: EmbeddedDatabase;

beforeAll(async () => {
  db = await startEmbeddedDatabase();
});
afterAll(async () => {
  await db?.stop();
});

/** A bare PostgreSQL wire-protocol client: enough to hold an extended-protocol batch open. */
class Wire {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private constructor(private readonly sock: Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static async open(url: string): Promise<Wire> {
    const { hostname, port } = new URL(url);
    const sock = connect({ host: hostname, port: Number(port) });
    await new Promise((r) => sock.once('connect', r));
    const w = new Wire(sock);
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + params.length, 0);
    head.writeInt32BE(196608, 4);
    sock.write(Buffer.concat([head, params]));
    await w.until('Z');
    return w;
  }

  private static msg(type: string, body: Buffer): Buffer {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  }

  parse(sql: string): void {
    this.sock.write(Wire.msg('P', Buffer.concat([Buffer.from(`\0${sql}\0`), Buffer.from([0, 0])])));
  }
  bindExecuteSync(values: string[]): void {
    const parts = [Buffer.from('\0\0'), Buffer.from([0, 0]), Buffer.alloc(2)];
    parts[2]!.writeInt16BE(values.length);
    for (const v of values) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(Buffer.byteLength(v));
      parts.push(len, Buffer.from(v));
    }
    parts.push(Buffer.from([0, 0]));
    this.sock.write(Buffer.concat([Wire.msg('B', Buffer.concat(parts)), Wire.msg('E', Buffer.from('\0\0\0\0\0')), Wire.msg('S', Buffer.alloc(0))]));
  }
  flush(): void {
    this.sock.write(Wire.msg('H', Buffer.alloc(0)));
  }

  /** Reads messages until one of `type` arrives; returns the messages read (type + body). */
  async until(type: string): Promise<{ type: string; body: Buffer }[]> {
    const out: { type: string; body: Buffer }[] = [];
    for (;;) {
      while (this.buf.length >= 5 && this.buf.length >= 1 + this.buf.readInt32BE(1)) {
        const len = this.buf.readInt32BE(1);
        const m = { type: String.fromCharCode(this.buf[0]!), body: this.buf.subarray(5, 1 + len) };
        this.buf = this.buf.subarray(1 + len);
        out.push(m);
        if (m.type === type) return out;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** The first column of the first DataRow, or the ErrorResponse's message. */
  static result(msgs: { type: string; body: Buffer }[]): string {
    const err = msgs.find((m) => m.type === 'E');
    if (err) return `error: ${err.body.toString().split('\0').find((f) => f.startsWith('M'))?.slice(1)}`;
    const row = msgs.find((m) => m.type === 'D');
    if (!row) return 'no row';
    const len = row.body.readInt32BE(2);
    return row.body.subarray(6, 6 + len).toString();
  }

  close(): void {
    this.sock.destroy();
  }
}

describe('embedded database settings', () => {
  it('does not zero-fill new WAL segments (a 16 MiB fill stalled every query behind it)', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const r = await client.query<{ wal_init_zero: string }>('SHOW wal_init_zero');
      expect(r.rows[0]!.wal_init_zero).toBe('off');
      // PGlite's own defaults are kept alongside.
      const s = await client.query<{ search_path: string }>('SHOW search_path');
      expect(s.rows[0]!.search_path).toBe('public');
    } finally {
      await client.end();
    }
  });
});

describe('embedded database over the wire', () => {
  it('keeps one connection’s extended-protocol batch whole while another connection sends its own', async () => {
    const a = await Wire.open(db.url);
    const b = await Wire.open(db.url);
    try {
      // A parses its unnamed statement and flushes: the batch is open until A's Sync.
      a.parse('SELECT $1::int + $2::int');
      a.flush();
      await a.until('1');
      // B's whole batch arrives in the middle of A's. It must wait, not replace A's statement.
      b.parse('SELECT $1::text');
      b.bindExecuteSync(['from b']);
      a.bindExecuteSync(['2', '3']);
      expect(Wire.result(await a.until('Z'))).toBe('5');
      expect(Wire.result(await b.until('Z'))).toBe('from b');
    } finally {
      a.close();
      b.close();
    }
  });

  it('a connection that drops in the middle of a batch does not hold the others up', async () => {
    const a = await Wire.open(db.url);
    const b = await Wire.open(db.url);
    try {
      a.parse('SELECT $1::int');
      a.flush();
      await a.until('1');
      b.parse('SELECT $1::text');
      b.bindExecuteSync(['still served']);
      a.close();
      expect(Wire.result(await b.until('Z'))).toBe('still served');
    } finally {
      b.close();
    }
  });

  it('many pooled connections running parameterised queries each get their own results', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 8 });
    try {
      const runs = Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? pool.query<{ s: number }>('SELECT $1::int + $2::int AS s', [i, 1]).then((r) => r.rows[0]!.s === i + 1)
          : pool.query<{ t: string }>('SELECT $1::text AS t', [`v${i}`]).then((r) => r.rows[0]!.t === `v${i}`),
      );
      const ok = await Promise.all(runs);
      expect(ok.every(Boolean)).toBe(true);
    } finally {
      await pool.end();
    }
  });
});
