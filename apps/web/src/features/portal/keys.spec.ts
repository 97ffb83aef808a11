import { toBase64Url } from '@qpc/crypto';
import { describe, expect, it } from 'vitest';
import { accountSecrets, keysOf, newPortalState, openState, sealState } from './keys';

const exportKey = toBase64Url(new Uint8Array(64).fill(7));

describe('portal key backup', () => {
  it('round-trips the state under secrets derived from the export key', async () => {
    const state = { ...newPortalState(), sequence: 42 };
    const sealed = await sealState(accountSecrets(exportKey, 'praxis'), state, 3);
    const again = await openState(accountSecrets(exportKey, 'praxis'), sealed, 3);
    expect(again).toEqual(state);
    expect(keysOf(again).signing.publicKey).toEqual(keysOf(state).signing.publicKey);
    expect(new TextDecoder().decode(sealed)).not.toContain(state.signingSeed);
  });

  it('does not open under another export key, account or version', async () => {
    const sealed = await sealState(accountSecrets(exportKey, 'praxis'), newPortalState(), 3);
    await expect(openState(accountSecrets(toBase64Url(new Uint8Array(64).fill(8)), 'praxis'), sealed, 3)).rejects.toThrow();
    await expect(openState(accountSecrets(exportKey, 'praxis2'), sealed, 3)).rejects.toThrow();
    await expect(openState(accountSecrets(exportKey, 'praxis'), sealed, 2)).rejects.toThrow();
  });

  it('derives the same device key in every browser', () => {
    expect(accountSecrets(exportKey, 'praxis').deviceSigning.publicKey).toEqual(accountSecrets(exportKey, 'praxis').deviceSigning.publicKey);
  });
});
