import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';
import { meshRegions } from './mesh-bridge.service.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  return [];
}

describe('mesh configuration', () => {
  it('defaults: off, loopback on a free port, no bootstrap, every region', () => {
    const c = loadConfig({});
    expect(c.MESH_ENABLED).toBe(false);
    expect(c.MESH_LISTEN).toBe('/ip4/127.0.0.1/tcp/0');
    expect(c.MESH_BOOTSTRAP).toBe('');
    expect(meshRegions(c.MESH_REGIONS)).toHaveLength(100);
    expect(meshRegions(c.MESH_REGIONS)).toContain('00');
    expect(meshRegions(c.MESH_REGIONS)).toContain('99');
  });

  it('parses the switch, several listen and bootstrap addresses, and a region list', () => {
    const c = loadConfig({
      MESH_ENABLED: 'true',
      MESH_LISTEN: '/ip4/127.0.0.1/tcp/4001,/ip4/127.0.0.1/tcp/4002/ws',
      MESH_BOOTSTRAP: '/ip4/127.0.0.1/tcp/4003/p2p/12D3KooWabc',
      MESH_REGIONS: '10,20',
    });
    expect(c.MESH_ENABLED).toBe(true);
    expect(c.MESH_LISTEN.split(',')).toHaveLength(2);
    expect(c.MESH_BOOTSTRAP).toContain('/p2p/');
    expect(meshRegions(c.MESH_REGIONS)).toEqual(['10', '20']);
  });

  it.each([
    ['MESH_ENABLED', 'yes'],
    ['MESH_LISTEN', '127.0.0.1:4001'],
    ['MESH_BOOTSTRAP', '/ip4/127.0.0.1/tcp/4003'],
    ['MESH_REGIONS', '1,20'],
    ['MESH_REGIONS', '10;20'],
    ['MESH_REGIONS', '123'],
  ])('%s=%s stops boot naming the variable', (name, value) => {
    const p = problems({ [name]: value });
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(`${name} (got ${JSON.stringify(value)})`);
  });
});
