import type { ConnectionOptions, TLSConfig } from '@temporalio/client';
import type { TemporalSettings } from './settings.ts';

/**
 * What both Temporal connections take, read from the settings (certificate files, key, API key): the
 * one place the SDK's TLS and API key options are made, for the client (`Connection.connect`, in the
 * gateway and the CLI) and the worker (`NativeConnection.connect`) alike.
 */
export interface TemporalConnectionBasics {
  address: string;
  /** false: plaintext. */
  tls: TLSConfig | false;
  apiKey?: string;
}

/** Reads every file and secret the settings name; a missing or malformed one throws TemporalSettingsError naming it. */
export function temporalConnectionBasics(settings: TemporalSettings): TemporalConnectionBasics {
  const apiKey = settings.apiKey?.read();
  if (settings.apiKey && !apiKey) throw new Error(`${settings.apiKey.origin} is empty.`);
  if (!settings.tls) return { address: settings.address, tls: false, ...(apiKey ? { apiKey } : {}) };
  const { serverName, serverCaCert, clientCert, clientKey } = settings.tls;
  const tls: TLSConfig = {};
  if (serverName) tls.serverNameOverride = serverName;
  if (serverCaCert) tls.serverRootCACertificate = Buffer.from(serverCaCert.read());
  if (clientCert && clientKey) tls.clientCertPair = { crt: Buffer.from(clientCert.read()), key: Buffer.from(clientKey.read()) };
  return { address: settings.address, tls, ...(apiKey ? { apiKey } : {}) };
}

/** Options for `Connection.connect` (@temporalio/client). */
export function clientConnectionOptions(settings: TemporalSettings, basics = temporalConnectionBasics(settings)): ConnectionOptions {
  return { ...basics, connectTimeout: settings.connectTimeoutMs };
}

/**
 * Options for `NativeConnection.connect` (@temporalio/worker). It has no connect timeout of its own:
 * `connectWorkerConnection` (connect.ts) bounds it with `settings.connectTimeoutMs`.
 */
export function nativeConnectionOptions(settings: TemporalSettings, basics = temporalConnectionBasics(settings)): { address: string; tls: TLSConfig | false; apiKey?: string } {
  return { ...basics };
}
