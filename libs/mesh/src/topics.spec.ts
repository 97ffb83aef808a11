import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fappTopicForPlz, MeshError, regionOfTopic } from './index.js';

describe('FAPP region topics', () => {
  it('names a topic by the Leitregion of a PLZ or prefix', () => {
    expect(fappTopicForPlz('10115')).toBe('/qpc/fapp/1/plz/10');
    expect(fappTopicForPlz('101')).toBe('/qpc/fapp/1/plz/10');
    expect(fappTopicForPlz('80')).toBe('/qpc/fapp/1/plz/80');
  });

  it('rejects anything that is not 2–5 digits', () => {
    for (const bad of ['1', '123456', '1a', '', ' 10115']) {
      expect(() => fappTopicForPlz(bad)).toThrow(MeshError);
    }
  });

  it('maps topics back to their region and ignores foreign topics', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{2,5}$/), (plz) => {
        expect(regionOfTopic(fappTopicForPlz(plz))).toBe(plz.slice(0, 2));
      }),
    );
    expect(regionOfTopic('/other/topic')).toBeNull();
    expect(regionOfTopic('/qpc/fapp/1/plz/1')).toBeNull();
  });
});
