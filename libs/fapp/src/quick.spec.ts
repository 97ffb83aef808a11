import { describe, expect, it } from 'vitest';
import { verifyAnnounce } from './announce.js';
import { announceBytes, NOW, trust } from './test/fixtures.js';

describe('smoke', () => {
  it('builds and verifies', () => {
    const v = verifyAnnounce(announceBytes(), { nowMs: NOW, trust });
    expect(v.verified).toBe(true);
    expect(v.announce.slots).toHaveLength(3);
  });
});
