// Public API of the credential vault; other modules import from here, not from the files behind it.
export { loadVaultKey, loadVaultKeyring, parseVaultKey, type VaultKey, type VaultKeyring, type VaultKeys } from './key.ts';
export { seal, sealedKeyFingerprint, unseal } from './cipher.ts';
export { reencryptVault, RotationLock, type RotationReport } from './rotation.ts';
export { vaultKeyCensus } from './sealed-columns.ts';
export { Vault, type VaultOptions } from './vault.ts';
export type { ConnectionInfo, ConnectionStatus, PutConnectionInput, RefreshedTokens, Refresher, ResolvedUserToken } from './connection-types.ts';
export { ConnectionUnavailableError, RefreshRejectedError, VaultBusyError, VaultCorruptError, VaultKeyError, VaultKeyMismatchError, type ConnectionUnavailableReason } from './errors.ts';
