// Public API of the credential vault; other modules import from here, not from the files behind it.
export { loadVaultKey, parseVaultKey, type VaultKey } from './key.ts';
export { seal, unseal } from './cipher.ts';
export { Vault, type VaultOptions } from './vault.ts';
export type {
  ConnectionInfo,
  ConnectionStatus,
  PutConnectionInput,
  RefreshedTokens,
  Refresher,
  ResolvedUserToken,
} from './connection-types.ts';
export {
  ConnectionUnavailableError,
  RefreshRejectedError,
  VaultBusyError,
  VaultCorruptError,
  VaultKeyError,
  VaultKeyMismatchError,
  type ConnectionUnavailableReason,
} from './errors.ts';
