import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_POW_BITS, fappWebConfig, parseAuthorities, parsePowBits } from './fapp-config';

const KEY = 'ab'.repeat(32);

describe('FAPP web config', () => {
  it('reads authorities in the server format', () => {
    expect(parseAuthorities(undefined)).toEqual([]);
    expect(parseAuthorities('')).toEqual([]);
    expect(parseAuthorities(`DEMO-Kammer (nicht echt)=${KEY.toUpperCase()};Kammer B=${KEY}`)).toEqual([
      { name: 'DEMO-Kammer (nicht echt)', publicKeyHex: KEY },
      { name: 'Kammer B', publicKeyHex: KEY },
    ]);
    expect(() => parseAuthorities('Kammer=abc')).toThrow(ConfigError);
    expect(() => parseAuthorities(`=${KEY}`)).toThrow(ConfigError);
  });

  it('reads the proof-of-work difficulty, default 18', () => {
    expect(parsePowBits(undefined)).toBe(DEFAULT_POW_BITS);
    expect(parsePowBits('8')).toBe(8);
    expect(() => parsePowBits('33')).toThrow(ConfigError);
    expect(() => parsePowBits('-1')).toThrow(ConfigError);
    expect(() => parsePowBits('8.5')).toThrow(ConfigError);
    expect(fappWebConfig({ QPC_FAPP_POW_BITS: '10', QPC_FAPP_AUTHORITIES: `A=${KEY}` })).toEqual({ powBits: 10, authorities: [{ name: 'A', publicKeyHex: KEY }] });
  });
});
