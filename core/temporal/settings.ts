import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readSecret, SecretUnavailableError, type SecretRef } from '../config/file/secret-ref.ts';
import type { TemporalConfig } from '../config/file/schema.ts';

/**
 * Where Temporal is and how Baton reaches it: address, namespace, task queue, TLS (server CA, client
 * certificate for mTLS, server name) and a Temporal Cloud API key. Secrets and certificate files are
 * read only when a connection is made (`read()`), so commands that never dial Temporal do not need
 * them, and the values never sit in a settings object that might be logged.
 */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** null: plaintext (the dev server). */
  tls: TemporalTlsSettings | null;
  apiKey: SecretSource | null;
  connectTimeoutMs: number;
  /** Where address and namespace came from, for error messages: an environment variable or a configuration field. */
  origins: { address: string; namespace: string };
}

export interface TemporalTlsSettings {
  /** Overrides the name checked against the server's certificate (and sent as SNI). */
  serverName?: string;
  serverCaCert?: SecretSource;
  /** mTLS: both or neither. */
  clientCert?: SecretSource;
  clientKey?: SecretSource;
}

/** A value read when needed: `origin` names where it is configured, `where` is the file or variable it is read from. */
export interface SecretSource {
  origin: string;
  where: string;
  read(): string;
}

/** A Temporal setting that cannot be used; the message names the variable or configuration field and what to do. */
export class TemporalSettingsError extends Error {
  override name = 'TemporalSettingsError';
}

const DEFAULT_ADDRESS = '127.0.0.1:7233';
const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

/** Temporal's own names (envconfig, as read by the Temporal CLI and SDKs), and the older CLI's short ones. */
const pemVariables = {
  serverCaCert: { path: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', alias: 'TEMPORAL_TLS_CA', data: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA' },
  clientCert: { path: 'TEMPORAL_TLS_CLIENT_CERT_PATH', alias: 'TEMPORAL_TLS_CERT', data: 'TEMPORAL_TLS_CLIENT_CERT_DATA' },
  clientKey: { path: 'TEMPORAL_TLS_CLIENT_KEY_PATH', alias: 'TEMPORAL_TLS_KEY', data: 'TEMPORAL_TLS_CLIENT_KEY_DATA' },
} as const;

export interface TemporalConfigSource {
  /** The configuration file's `temporal:` section, if there is a file. */
  config?: TemporalConfig;
  file?: string;
  /** The configuration file's folder: relative paths and `file:` references resolve against it. */
  baseDir: string;
}

/**
 * Reads Temporal's settings from the environment and the configuration file's `temporal:` section;
 * for each field the environment wins (as in Temporal's own tools). TLS is on when asked for
 * (TEMPORAL_TLS / `tls:`), when any TLS material is given, or with an API key — unless TEMPORAL_TLS
 * (or `tls.enabled`) says false.
 */
export function loadTemporalSettings(env: NodeJS.ProcessEnv, source: TemporalConfigSource): TemporalSettings {
  const file = source.config ?? {};
  const fileField = (path: string) => `temporal.${path} in ${source.file ?? 'the configuration file'}`;
  const set = (name: string) => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);

  const address = set('TEMPORAL_ADDRESS') ?? file.address ?? DEFAULT_ADDRESS;
  const addressOrigin = set('TEMPORAL_ADDRESS') ? 'TEMPORAL_ADDRESS' : file.address ? fileField('address') : 'TEMPORAL_ADDRESS (default)';
  checkAddress(address, addressOrigin);
  const namespace = set('TEMPORAL_NAMESPACE') ?? file.namespace ?? 'default';
  const namespaceOrigin = set('TEMPORAL_NAMESPACE') ? 'TEMPORAL_NAMESPACE' : file.namespace ? fileField('namespace') : 'TEMPORAL_NAMESPACE (default)';
  const taskQueue = set('BATON_TASK_QUEUE') ?? file.taskQueue ?? 'baton';

  const timeoutVariable = set('BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS');
  const timeoutSeconds = timeoutVariable !== undefined ? Number(timeoutVariable) : (file.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 300) {
    throw new TemporalSettingsError(`Environment variable BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS is invalid: give a number of seconds between 0 and 300 (got "${timeoutVariable}").`);
  }

  if (flag(env, 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION')) {
    throw new TemporalSettingsError(
      "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported (Temporal's TypeScript SDK always checks the server's name): set TEMPORAL_TLS_SERVER_NAME to a name the server's certificate lists instead.",
    );
  }

  const fileTls = typeof file.tls === 'object' ? file.tls : {};
  const fromFile = (path: string | undefined, field: string): SecretSource | undefined => (path === undefined ? undefined : pemFile(resolve(source.baseDir, path), fileField(field)));
  const pem = (which: keyof typeof pemVariables, fileValue: SecretSource | undefined): SecretSource | undefined => {
    const names = pemVariables[which];
    const given = [names.path, names.alias, names.data].filter((name) => set(name) !== undefined);
    if (given.length > 1)
      throw new TemporalSettingsError(
        `Set only one of ${given.join(' and ')}: they name the same ${which === 'serverCaCert' ? 'CA certificate' : which === 'clientCert' ? 'client certificate' : 'client key'}.`,
      );
    const [name] = given;
    if (name === undefined) return fileValue;
    if (name === names.data) return { origin: name, where: `the value of ${name}`, read: () => checkPem(env[name] ?? '', name, `the value of ${name}`) };
    return pemFile(resolve(env[name]!), name);
  };
  const serverCaCert = pem('serverCaCert', fromFile(fileTls.serverCaCert, 'tls.serverCaCert'));
  const clientCert = pem('clientCert', fromFile(fileTls.clientCert, 'tls.clientCert'));
  const clientKey = pem('clientKey', fileTls.clientKey ? secretPem(fileTls.clientKey, fileField('tls.clientKey'), env, source.baseDir) : undefined);
  const serverName = set('TEMPORAL_TLS_SERVER_NAME') ?? fileTls.serverName;

  const apiKey: SecretSource | null = set('TEMPORAL_API_KEY')
    ? { origin: 'TEMPORAL_API_KEY', where: 'the value of TEMPORAL_API_KEY', read: () => env.TEMPORAL_API_KEY!.trim() }
    : file.apiKey
      ? secretValue(file.apiKey, fileField('apiKey'), env, source.baseDir)
      : null;

  const explicitTls = env.TEMPORAL_TLS !== undefined && env.TEMPORAL_TLS !== '' ? flag(env, 'TEMPORAL_TLS') : typeof file.tls === 'boolean' ? file.tls : fileTls.enabled;
  const material = serverCaCert ?? clientCert ?? clientKey ?? serverName;
  const tlsOn = explicitTls ?? (material !== undefined || apiKey !== null || typeof file.tls === 'object');
  if (tlsOn && (clientCert === undefined) !== (clientKey === undefined)) {
    const [have, missing] = clientCert
      ? [clientCert.origin, 'TEMPORAL_TLS_CLIENT_KEY_PATH (or temporal.tls.clientKey)']
      : [clientKey!.origin, 'TEMPORAL_TLS_CLIENT_CERT_PATH (or temporal.tls.clientCert)'];
    throw new TemporalSettingsError(`A client certificate (mTLS) needs both the certificate and its private key: ${have} is set, ${missing} is not.`);
  }
  return {
    address,
    namespace,
    taskQueue,
    tls: tlsOn ? { serverName, serverCaCert, clientCert, clientKey } : null,
    apiKey,
    connectTimeoutMs: Math.round(timeoutSeconds * 1000),
    origins: { address: addressOrigin, namespace: namespaceOrigin },
  };
}

/** A one-line description of how Baton connects, for start-up lines (never a secret). */
export function describeTemporalTarget(settings: TemporalSettings): string {
  const how: string[] = [];
  if (!settings.tls) how.push('plaintext');
  else {
    how.push(settings.tls.serverCaCert ? `TLS, server CA from ${settings.tls.serverCaCert.where}` : "TLS, the system's CAs");
    if (settings.tls.clientCert) how.push(`client certificate ${settings.tls.clientCert.where}`);
    if (settings.tls.serverName) how.push(`server name ${settings.tls.serverName}`);
  }
  if (settings.apiKey) how.push(`API key from ${settings.apiKey.origin}`);
  return `${settings.address} (namespace ${settings.namespace}, ${how.join(', ')})`;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw new TemporalSettingsError(`Environment variable ${name} is invalid: use true or false (got "${value}").`);
}

function checkAddress(address: string, origin: string): void {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) {
    throw new TemporalSettingsError(`${origin} is "${address}": give host:port (e.g. temporal.example.com:7233), not a URL.`);
  }
  if (!/^(\[[0-9a-f:.]+\]|[^\s:/[\]]+)(:\d{1,5})?$/i.test(address)) {
    throw new TemporalSettingsError(`${origin} is "${address}": give host:port, e.g. 127.0.0.1:7233 or my-namespace.a2b3c.tmprl.cloud:7233.`);
  }
}

function pemFile(path: string, origin: string): SecretSource {
  return {
    origin,
    where: path,
    read: () => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (error as Error).message);
        throw new TemporalSettingsError(`Cannot read ${path}, named by ${origin} (${why}): point it at the PEM file.`);
      }
      return checkPem(text, origin, path);
    },
  };
}

function checkPem(text: string, origin: string, where: string): string {
  if (!text.includes('-----BEGIN ')) throw new TemporalSettingsError(`${where} (${origin}) is not PEM: expected a "-----BEGIN ...-----" block.`);
  return text;
}

function secretValue(ref: SecretRef, origin: string, env: NodeJS.ProcessEnv, baseDir: string): SecretSource {
  const where = ref.kind === 'env' ? `the value of ${ref.name}` : ref.kind === 'file' ? resolve(baseDir, ref.path) : ref.id;
  return {
    origin,
    where,
    read: () => {
      try {
        return readSecret(ref, { env, baseDir });
      } catch (error) {
        if (error instanceof SecretUnavailableError) throw new TemporalSettingsError(`${origin}: ${error.message}.`);
        throw error;
      }
    },
  };
}

function secretPem(ref: SecretRef, origin: string, env: NodeJS.ProcessEnv, baseDir: string): SecretSource {
  const value = secretValue(ref, origin, env, baseDir);
  return { ...value, read: () => checkPem(value.read(), origin, value.where) };
}
