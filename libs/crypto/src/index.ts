/**
 * @qpc/crypto: the cryptographic core. Sans-IO, runs unchanged in browsers and on Node,
 * composes audited libraries (noble, @hpke, ts-mls) and never hand-rolls a primitive.
 * On Node the classical primitives run on node:crypto (see provider/), elsewhere on noble.
 */
export { CryptoError, isCryptoError, type CryptoErrorCode } from './errors.js';
export {
  randomBytes,
  sha256,
  sha512,
  hkdfSha256,
  constantTimeEqual,
  zeroize,
  concatBytes,
  utf8,
  fromUtf8,
  toHex,
  fromHex,
  toBase64Url,
  fromBase64Url,
} from './bytes.js';
export {
  type SigningKeyPair,
  generateSigningKeyPair,
  signingKeyPairFromSeed,
  sign,
  verify,
  assertSignature,
  fingerprint,
  meshAddress,
  SIGNATURE_LENGTH,
  PUBLIC_KEY_LENGTH,
} from './identity.js';
export {
  type KemKeyPair,
  generateKemKeyPair,
  kemPublicKey,
  xwingEncapsulate,
  xwingDecapsulate,
  XWING_PUBLIC_KEY_LENGTH,
  XWING_CIPHERTEXT_LENGTH,
  XWING_SEED_LENGTH,
  XWING_ESEED_LENGTH,
} from './xwing.js';
export { seal, open, type SealOptions, SEAL_VERSION, SEAL_OVERHEAD } from './seal.js';
export { pad, unpad, paddedLength, padmeLength, DEFAULT_PAD_FLOOR } from './padding.js';
export { mintStamp, verifyStamp, STAMP_LENGTH, STAMP_VERSION, MAX_STAMP_BITS } from './stamp.js';
export { type CryptoProvider } from './provider/types.js';
export { provider as cryptoProvider } from '#provider';
export {
  MLS_DEFAULT_SUITE,
  MLS_XWING_SUITE,
  type MlsSuite,
  type MlsOptions,
  type MlsKeyPackageBundle,
  type MlsGroup,
  type MlsMemberInfo,
  type MlsCommitResult,
  type MlsProcessResult,
  type MlsPeek,
  type MlsWireFormat,
  type MlsContentType,
  mlsCiphersuite,
  createKeyPackage,
  decodeKeyPackage,
  wipeKeyPackage,
  createMlsGroup,
  addMembers,
  removeMembers,
  updateKeys,
  confirmCommit,
  discardPendingCommit,
  joinFromWelcome,
  encryptMessage,
  processMessage,
  exportSecret,
  peekMlsMessage,
  decodeMlsMessageBytes,
  exportGroupState,
  restoreGroupState,
  groupId,
  groupEpoch,
  groupMembers,
  ownLeafIndex,
  isActiveMember,
  epochAuthenticator,
} from './mls.js';
export {
  MerkleLog,
  merkleLeafHash,
  merkleNodeHash,
  verifyInclusion,
  verifyConsistency,
  MERKLE_HASH_LENGTH,
} from './merkle.js';
export {
  type VaultParams,
  DEFAULT_VAULT_PARAMS,
  MAX_VAULT_PARAMS,
  deriveVaultKey,
  encryptVault,
  decryptVault,
  vaultParams,
} from './vault.js';
export { type SafetyParty, type SafetyNumber, safetyNumber, verifySafetyQr } from './safety.js';
export {
  type RecoverySlotKey,
  RECOVERY_CODE_COUNT,
  generateRecoveryCodes,
  parseRecoveryCode,
  createRecoveryBundle,
  openRecoveryBundle,
  recoveryBundleCodeIds,
} from './recovery.js';
