import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

/** A `run` whose statements finish only when the test says so; it records every batch. */
function controlled<I>() {
  const batches: I[][] = [];
  const finish: Array<(fail?: Error) => void> = [];
  const run = (batch: readonly I[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push([...batch]);
      finish.push((fail) => (fail ? reject(fail) : resolve(batch.map((i) => `done ${String(i)}`))));
    });
  return { batches, finish, run };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('sends an item at once when a statement is free, and batches what arrives while the statements are busy', async () => {
    const c = controlled<number>();
    const g = new GroupCommit<number, string>({ concurrency: 1, maxBatch: 10, run: c.run });
    const first = g.submit(1);
    expect(c.batches).toEqual([[1]]);
    const later = [2, 3, 4].map((i) => g.submit(i));
    expect(c.batches).toHaveLength(1);
    expect(g.waiting).toBe(3);
    c.finish[0]!();
    expect(await first).toBe('done 1');
    await settle();
    expect(c.batches).toEqual([[1], [2, 3, 4]]);
    c.finish[1]!();
    expect(await Promise.all(later)).toEqual(['done 2', 'done 3', 'done 4']);
  });

  it('keeps at most `concurrency` statements in flight and at most `maxBatch` items in one', async () => {
    const c = controlled<number>();
    const g = new GroupCommit<number, string>({ concurrency: 2, maxBatch: 2, run: c.run });
    const all = [1, 2, 3, 4, 5, 6, 7].map((i) => g.submit(i));
    expect(c.batches).toEqual([[1], [2]]);
    c.finish[0]!();
    await settle();
    expect(c.batches).toEqual([[1], [2], [3, 4]]);
    c.finish[1]!();
    await settle();
    expect(c.batches).toEqual([[1], [2], [3, 4], [5, 6]]);
    c.finish[2]!();
    c.finish[3]!();
    await settle();
    expect(c.batches.at(-1)).toEqual([7]);
    c.finish[4]!();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `done ${i}`));
  });

  it('a failed statement rejects its own batch only', async () => {
    const c = controlled<number>();
    const g = new GroupCommit<number, string>({ concurrency: 1, maxBatch: 2, run: c.run });
    const a = g.submit(1);
    const [b, d] = [g.submit(2), g.submit(3)];
    const e = g.submit(4);
    c.finish[0]!(new Error('deadlock'));
    await expect(a).rejects.toThrow('deadlock');
    await settle();
    c.finish[1]!(new Error('serialization failure'));
    await expect(b).rejects.toThrow('serialization failure');
    await expect(d).rejects.toThrow('serialization failure');
    await settle();
    c.finish[2]!();
    expect(await e).toBe('done 4');
  });

  it('a statement that answers for the wrong number of items rejects its batch instead of mixing results up', async () => {
    const g = new GroupCommit<number, string>({ concurrency: 1, maxBatch: 5, run: async () => ['only one'] });
    const first = g.submit(1);
    const [x, y] = [g.submit(2), g.submit(3)];
    expect(await first).toBe('only one');
    await expect(x).rejects.toThrow('1 results for 2 items');
    await expect(y).rejects.toThrow('1 results for 2 items');
  });

  it('with a key, one item per key in a batch; a later item of that key never overtakes an earlier one', async () => {
    const c = controlled<string>();
    const g = new GroupCommit<string, string>({ concurrency: 1, maxBatch: 3, run: c.run, key: (s) => s.split(':')[0]! });
    void g.submit('x:0');
    const rest = ['a:1', 'a:2', 'b:1', 'c:1', 'd:1', 'd:2', 'a:3'].map((s) => g.submit(s));
    c.finish[0]!();
    await settle();
    // a:2 waits (a taken); d:1 waits (batch full), so d:2 must wait behind it.
    expect(c.batches[1]).toEqual(['a:1', 'b:1', 'c:1']);
    c.finish[1]!();
    await settle();
    expect(c.batches[2]).toEqual(['a:2', 'd:1']);
    c.finish[2]!();
    await settle();
    expect(c.batches[3]).toEqual(['d:2', 'a:3']);
    c.finish[3]!();
    expect(await Promise.all(rest)).toHaveLength(7);
  });

  it('refuses a configuration that could never send anything', () => {
    expect(() => new GroupCommit({ concurrency: 0, maxBatch: 1, run: async () => [] })).toThrow(RangeError);
    expect(() => new GroupCommit({ concurrency: 1, maxBatch: 0, run: async () => [] })).toThrow(RangeError);
  });
});
