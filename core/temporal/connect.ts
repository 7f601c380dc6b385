import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { clientConnectionOptions, nativeConnectionOptions, temporalConnectionBasics, type TemporalConnectionBasics } from './connection-options.ts';
import { probeTemporalEndpoint, type ProbeResult } from './probe.ts';
import { TemporalSettingsError, type TemporalSettings } from './settings.ts';

/**
 * The one way Baton dials Temporal: the gateway and the CLI with `connectTemporalClient`, workers
 * with `connectWorkerConnection`. Both use the settings' address, TLS and API key, give up after the
 * connect timeout instead of hanging, check that the namespace exists and that Baton may use it, and
 * fail with a TemporalConnectionError that says what is wrong and what to do next.
 */

export type TemporalConnectionProblem = 'settings' | 'unreachable' | 'no-answer' | 'tls' | 'expects-tls' | 'not-tls' | 'unauthorized' | 'namespace-not-found' | 'other';

export class TemporalConnectionError extends Error {
  override name = 'TemporalConnectionError';
  readonly problem: TemporalConnectionProblem;

  constructor(problem: TemporalConnectionProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.problem = problem;
  }
}

/** gRPC status codes the checks look at. */
const grpcStatus = { NOT_FOUND: 5, PERMISSION_DENIED: 7, UNAUTHENTICATED: 16 } as const;

const PROXY_VARIABLES = ['grpc_proxy', 'https_proxy', 'http_proxy', 'GRPC_PROXY', 'HTTPS_PROXY', 'HTTP_PROXY'];

/** A client connection (gateway, CLI, tests). */
export async function connectTemporalClient(settings: TemporalSettings): Promise<Connection> {
  const basics = basicsOf(settings);
  // lazy + ensureConnected (what Connection.connect does), so a failed attempt can still be closed.
  const lazy = Connection.lazy(clientConnectionOptions(settings, basics));
  const connecting = lazy.ensureConnected().then(() => lazy);
  // gRPC-js retries quietly until its deadline; a direct look at the address answers sooner when
  // nothing is there or TLS cannot work (skipped behind a proxy, which the look would not go through).
  const early = PROXY_VARIABLES.some((name) => process.env[name])
    ? new Promise<never>(() => undefined)
    : probeTemporalEndpoint(settings.address, basics.tls, Math.min(settings.connectTimeoutMs, 5_000)).then((probe) => {
        if (probe.kind === 'ok' || probe.kind === 'silent') return new Promise<never>(() => undefined);
        throw connectionProblem(settings, basics, probe, undefined);
      });
  early.catch(() => undefined); // the SDK may win the race
  let connection: Connection;
  try {
    connection = await Promise.race([connecting, early]);
  } catch (error) {
    void lazy.close().catch(() => undefined);
    if (error instanceof TemporalConnectionError) throw error;
    throw await explainConnectFailure(settings, basics, error);
  }
  await checkNamespace(settings, basics, connection, () => connection.close());
  return connection;
}

/** A worker's connection (Rust core). */
export async function connectWorkerConnection(settings: TemporalSettings): Promise<NativeConnection> {
  const basics = basicsOf(settings);
  const connecting = NativeConnection.connect(nativeConnectionOptions(settings, basics));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no connection within ${settings.connectTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), settings.connectTimeoutMs);
  });
  let connection: NativeConnection;
  try {
    connection = await Promise.race([connecting, timeout]);
  } catch (error) {
    connecting.then(
      (late) => late.close(),
      () => undefined,
    );
    throw await explainConnectFailure(settings, basics, error);
  } finally {
    clearTimeout(timer);
  }
  await checkNamespace(settings, basics, connection, () => connection.close());
  return connection;
}

/**
 * Asks Temporal for the namespace: this is where an unknown namespace and a refused API key or client
 * certificate show up (the connection itself may well succeed).
 */
async function checkNamespace(settings: TemporalSettings, basics: TemporalConnectionBasics, connection: Connection | NativeConnection, close: () => Promise<void>): Promise<void> {
  try {
    await connection.withDeadline(Date.now() + settings.connectTimeoutMs, () => connection.workflowService.describeNamespace({ namespace: settings.namespace }));
  } catch (error) {
    await close().catch(() => undefined);
    throw answerProblem(settings, basics, error);
  }
}

function basicsOf(settings: TemporalSettings): TemporalConnectionBasics {
  try {
    return temporalConnectionBasics(settings);
  } catch (error) {
    if (error instanceof TemporalSettingsError) throw new TemporalConnectionError('settings', error.message, { cause: error });
    throw error;
  }
}

/** The SDK failed to connect: an authorization answer speaks for itself; otherwise look at the address to say why. */
async function explainConnectFailure(settings: TemporalSettings, basics: TemporalConnectionBasics, error: unknown): Promise<TemporalConnectionError> {
  const code = grpcCodeOf(error);
  if (code === grpcStatus.UNAUTHENTICATED || code === grpcStatus.PERMISSION_DENIED) return answerProblem(settings, basics, error);
  const probe = await probeTemporalEndpoint(settings.address, basics.tls, Math.min(settings.connectTimeoutMs, 3_000));
  return connectionProblem(settings, basics, probe, error);
}

function connectionProblem(settings: TemporalSettings, basics: TemporalConnectionBasics, probe: ProbeResult, sdkError: unknown): TemporalConnectionError {
  const where = `Temporal at ${settings.address}`;
  const sdk = sdkError === undefined ? '' : ` (Temporal SDK: ${oneLine(sdkError)})`;
  const addressVar = settings.origins.address;
  switch (probe.kind) {
    case 'unreachable':
      return new TemporalConnectionError(
        'unreachable',
        `Cannot reach ${where}: ${probe.detail}. Check that the Temporal server is running and that ${addressVar} is its frontend's host:port (7233 by default; Temporal Cloud: <namespace>.<account>.tmprl.cloud:7233). Inside a container, 127.0.0.1 is the container itself.${sdk}`,
        { cause: sdkError },
      );
    case 'expects-tls':
      return new TemporalConnectionError(
        'expects-tls',
        `${where} speaks TLS, and Baton connected without it: set TEMPORAL_TLS=true (add TEMPORAL_TLS_SERVER_CA_CERT_PATH if the server's certificate is not from a public CA).${sdk}`,
        { cause: sdkError },
      );
    case 'not-tls':
      return new TemporalConnectionError(
        'not-tls',
        `TLS handshake with ${where} failed: the server does not speak TLS on that port (${probe.detail}). For a plaintext server (the Temporal dev server) set TEMPORAL_TLS=false and leave TEMPORAL_API_KEY and the TLS variables unset.${sdk}`,
        { cause: sdkError },
      );
    case 'tls-failed':
      return new TemporalConnectionError('tls', `TLS handshake with ${where} failed: ${probe.detail}. ${tlsHint(settings, probe)}${sdk}`, { cause: sdkError });
    case 'silent':
    case 'ok':
    default:
      return new TemporalConnectionError(
        'no-answer',
        `${where} accepts connections but no Temporal connection was made within ${settings.connectTimeoutMs / 1000} s${probe.kind === 'silent' ? ` (${probe.detail})` : ''}. Check that ${addressVar} names Temporal's gRPC frontend (not its web UI or HTTP port)${basics.tls ? '' : ' and whether it expects TLS (TEMPORAL_TLS=true)'}; raise BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS on a slow network.${sdk}`,
        { cause: sdkError },
      );
  }
}

function tlsHint(settings: TemporalSettings, probe: { detail: string; code: string | undefined }): string {
  const code = probe.code ?? '';
  const text = `${code} ${probe.detail}`;
  if (/ALTNAME|Hostname\/IP does not match|NotValidForName/i.test(text)) {
    return `The server's certificate does not name the host Baton connects to: use an address the certificate lists, or set TEMPORAL_TLS_SERVER_NAME to a name it lists${settings.tls?.serverName ? ` (now "${settings.tls.serverName}")` : ''}.`;
  }
  if (code === 'CLOSED_AFTER_HANDSHAKE') {
    return settings.tls?.clientCert
      ? `The server hung up after the handshake: it most likely refused Baton's client certificate (${settings.tls.clientCert.where}); it must be signed by a CA the server (or the Temporal Cloud namespace) accepts.`
      : 'The server hung up after the handshake: it most likely requires a client certificate (mTLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH.';
  }
  if (/CERTIFICATE_REQUIRED|certificate required/i.test(text)) {
    return 'The server requires a client certificate (mTLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or TEMPORAL_API_KEY, for Temporal Cloud namespaces that use API keys).';
  }
  if (/ALERT_UNKNOWN_CA|ALERT_BAD_CERTIFICATE|alert unknown ca|alert bad certificate|ALERT_CERTIFICATE_UNKNOWN|ALERT_ACCESS_DENIED/i.test(text)) {
    return `The server refused Baton's client certificate${settings.tls?.clientCert ? ` (${settings.tls.clientCert.where})` : ''}: it must be signed by a CA the server (or the Temporal Cloud namespace) accepts, and match its key.`;
  }
  if (/SELF_SIGNED|UNABLE_TO_(GET_ISSUER|VERIFY_LEAF)|UnknownIssuer|unable to get local issuer|self.signed/i.test(text)) {
    return `Baton does not trust the server's certificate: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA certificate that signed it${settings.tls?.serverCaCert ? ` (now ${settings.tls.serverCaCert.where}, which did not)` : ''}.`;
  }
  if (/CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|expired/i.test(text)) return "The server's certificate is expired or not yet valid: renew it, or check this machine's clock.";
  if (/KEY_VALUES_MISMATCH|key values mismatch/i.test(text)) return `The client key does not belong to the client certificate: check TEMPORAL_TLS_CLIENT_KEY_PATH and TEMPORAL_TLS_CLIENT_CERT_PATH.`;
  return 'Check TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME and the client certificate, or set TEMPORAL_TLS=false for a plaintext server.';
}

function answerProblem(settings: TemporalSettings, _basics: TemporalConnectionBasics, error: unknown): TemporalConnectionError {
  const code = grpcCodeOf(error);
  const where = `Temporal at ${settings.address}`;
  if (code === grpcStatus.NOT_FOUND) {
    return new TemporalConnectionError(
      'namespace-not-found',
      `${where} has no namespace "${settings.namespace}" (${settings.origins.namespace}). Set TEMPORAL_NAMESPACE to an existing namespace (Temporal Cloud: <namespace>.<account id>), or create it: temporal operator namespace create --namespace ${settings.namespace}`,
      { cause: error },
    );
  }
  if (code === grpcStatus.UNAUTHENTICATED || code === grpcStatus.PERMISSION_DENIED) {
    const refused = code === grpcStatus.UNAUTHENTICATED ? "did not accept Baton's credentials" : `does not let Baton use namespace "${settings.namespace}"`;
    const next = settings.apiKey
      ? `Check the API key in ${settings.apiKey.origin}: it may be expired, revoked, or not granted access to namespace "${settings.namespace}".`
      : settings.tls?.clientCert
        ? `Check the client certificate (${settings.tls.clientCert.where}): the namespace "${settings.namespace}" must accept its CA.`
        : 'The server requires credentials: set TEMPORAL_API_KEY (a Temporal Cloud API key) or a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH).';
    return new TemporalConnectionError('unauthorized', `${where} ${refused} (${oneLine(error)}). ${next}`, { cause: error });
  }
  return new TemporalConnectionError('other', `${where} could not describe namespace "${settings.namespace}": ${oneLine(error)}.`, { cause: error });
}

/** The gRPC status of an error or of what caused it (the client wraps its connect failures). */
function grpcCodeOf(error: unknown): number | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number' && code !== 0) return code;
    // The worker's native client reports some answers only in its message.
    const text = String((current as Error).message ?? '');
    // (tonic prints a status by its description: "The request does not have valid authentication credentials".)
    if (/Unauthenticated|UNAUTHENTICATED|does not have valid authentication credentials/.test(text)) return grpcStatus.UNAUTHENTICATED;
    if (/PermissionDenied|PERMISSION_DENIED|does not have permission to execute/.test(text)) return grpcStatus.PERMISSION_DENIED;
  }
  return undefined;
}

/** An error's message on one line, with its causes' (the client's "Failed to connect" says little by itself). */
function oneLine(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth += 1) {
    const message = String((current as Error).message ?? current)
      .replace(/\s+/g, ' ')
      .trim();
    if (message && !parts.includes(message)) parts.push(message);
  }
  return parts.join(': ').slice(0, 400);
}
