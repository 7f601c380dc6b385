/**
 * Issue 6, the Temporal connection: settings from the environment (Temporal's own variable names) and
 * the configuration file, the options handed to the SDK (TLS, mTLS, API key), and clear, fast errors
 * for what goes wrong in practice — nothing listening, a port that never answers, an unknown namespace,
 * a missing certificate file, TLS on one side only, an untrusted or misnamed server certificate, a
 * refused client certificate, a refused API key. The TLS cases run for real against the suite's dev
 * server behind a TLS (and mTLS, API key checking) front, since `temporal server start-dev` has no TLS.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../core/config/file/load-config.ts';
import { loadSettings } from '../core/config/settings.ts';
import { connectTemporalClient, connectWorkerConnection, TemporalConnectionError } from '../core/temporal/connect.ts';
import { clientConnectionOptions, nativeConnectionOptions, temporalConnectionBasics } from '../core/temporal/connection-options.ts';
import { describeTemporalTarget, loadTemporalSettings, TemporalSettingsError, type TemporalSettings } from '../core/temporal/settings.ts';
import { BatonProcess } from './support/gateway-process.ts';
import { freePort } from '../scripts/free-port.ts';
import { makeTestPki, startTlsFrontend, type TestPki, type TlsFrontend } from './support/tls.ts';

const devServer = process.env.TEMPORAL_ADDRESS!;
const settingsFrom = (env: NodeJS.ProcessEnv, baseDir = process.cwd()) => loadTemporalSettings(env, { baseDir });

let pki: TestPki;
let scratch: string;
beforeAll(() => {
  pki = makeTestPki();
  scratch = mkdtempSync(join(tmpdir(), 'baton-temporal-conn-'));
});
afterAll(() => {
  pki?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** Connects with both connections (client and worker); both must fail the same way. */
async function bothFail(settings: TemporalSettings): Promise<{ client: TemporalConnectionError; worker: TemporalConnectionError; ms: number[] }> {
  const attempt = async (connect: () => Promise<{ close(): Promise<void> }>) => {
    const started = performance.now();
    const outcome = await connect().then(
      async (connection) => {
        await connection.close();
        return new Error('connected, but should not have');
      },
      (error: unknown) => error,
    );
    if (!(outcome instanceof TemporalConnectionError)) throw outcome;
    return { error: outcome, ms: performance.now() - started };
  };
  const client = await attempt(() => connectTemporalClient(settings));
  const worker = await attempt(() => connectWorkerConnection(settings));
  return { client: client.error, worker: worker.error, ms: [client.ms, worker.ms] };
}

async function bothConnect(settings: TemporalSettings): Promise<void> {
  const client = await connectTemporalClient(settings);
  const { namespaceInfo } = await client.workflowService.describeNamespace({ namespace: settings.namespace });
  expect(namespaceInfo?.name).toBe(settings.namespace);
  await client.close();
  const worker = await connectWorkerConnection(settings);
  expect((await worker.workflowService.describeNamespace({ namespace: settings.namespace })).namespaceInfo?.name).toBe(settings.namespace);
  await worker.close();
}

describe('settings and the options given to the SDK', () => {
  test('defaults: the local dev server, plaintext, no API key', () => {
    const settings = settingsFrom({});
    expect(settings).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'baton', tls: null, apiKey: null, connectTimeoutMs: 10_000 });
    expect(temporalConnectionBasics(settings)).toEqual({ address: '127.0.0.1:7233', tls: false });
    expect(clientConnectionOptions(settings)).toEqual({ address: '127.0.0.1:7233', tls: false, connectTimeout: 10_000 });
    expect(describeTemporalTarget(settings)).toBe('127.0.0.1:7233 (namespace default, plaintext)');
  });

  test('an API key (Temporal Cloud) turns TLS on with the system CAs and goes to both connections', () => {
    const settings = settingsFrom({ TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'acme.a1b2c', TEMPORAL_API_KEY: 'key-123' });
    expect(nativeConnectionOptions(settings)).toEqual({ address: 'acme.a1b2c.tmprl.cloud:7233', tls: {}, apiKey: 'key-123' });
    expect(clientConnectionOptions(settings)).toEqual({ address: 'acme.a1b2c.tmprl.cloud:7233', tls: {}, apiKey: 'key-123', connectTimeout: 10_000 });
    // Never the key itself in what Baton prints.
    expect(describeTemporalTarget(settings)).toBe("acme.a1b2c.tmprl.cloud:7233 (namespace acme.a1b2c, TLS, the system's CAs, API key from TEMPORAL_API_KEY)");
    expect(JSON.stringify(settings)).not.toContain('key-123');
    // TEMPORAL_TLS=false keeps it plaintext (a local proxy that adds TLS itself).
    expect(nativeConnectionOptions(settingsFrom({ TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS: 'false' }))).toEqual({ address: '127.0.0.1:7233', tls: false, apiKey: 'key-123' });
  });

  test("mTLS from Temporal's variable names: CA, client certificate and key, server name", () => {
    const settings = settingsFrom({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
      BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS: '3',
    });
    const options = nativeConnectionOptions(settings);
    expect(options).toEqual({
      address: '127.0.0.1:7233',
      tls: {
        serverNameOverride: 'temporal.test',
        serverRootCACertificate: readFileSync(pki.caCert),
        clientCertPair: { crt: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
      },
    });
    expect(clientConnectionOptions(settings)).toEqual({ ...options, connectTimeout: 3_000 });
    expect(describeTemporalTarget(settings)).toBe(`127.0.0.1:7233 (namespace default, TLS, server CA from ${pki.caCert}, client certificate ${pki.clientCert}, server name temporal.test)`);
  });

  test("the older CLI's short names and the inline PEM variants work too", () => {
    const short = settingsFrom({ TEMPORAL_TLS_CA: pki.caCert, TEMPORAL_TLS_CERT: pki.clientCert, TEMPORAL_TLS_KEY: pki.clientKey });
    const inline = settingsFrom({
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: readFileSync(pki.caCert, 'utf8'),
      TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(pki.clientCert, 'utf8'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(pki.clientKey, 'utf8'),
    });
    expect(temporalConnectionBasics(short)).toEqual(temporalConnectionBasics(inline));
    expect(temporalConnectionBasics(short).tls).toMatchObject({ clientCertPair: { crt: readFileSync(pki.clientCert) } });
  });

  test('contradictions and bad values are refused, naming the variable', () => {
    const refused = (env: NodeJS.ProcessEnv) => {
      try {
        settingsFrom(env);
      } catch (error) {
        expect(error).toBeInstanceOf(TemporalSettingsError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert })).toMatch(/needs both the certificate and its private key: TEMPORAL_TLS_CLIENT_CERT_PATH is set, TEMPORAL_TLS_CLIENT_KEY_PATH/);
    expect(refused({ TEMPORAL_TLS_CA: pki.caCert, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert })).toMatch(/Set only one of TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_CA/);
    expect(refused({ TEMPORAL_TLS: 'maybe' })).toMatch(/TEMPORAL_TLS is invalid: use true or false/);
    expect(refused({ TEMPORAL_ADDRESS: 'https://temporal.example.com:7233' })).toMatch(/TEMPORAL_ADDRESS is "https:\/\/temporal.example.com:7233": give host:port/);
    expect(refused({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })).toMatch(/not supported .* TEMPORAL_TLS_SERVER_NAME/);
    expect(refused({ BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS: 'soon' })).toMatch(/BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS is invalid/);
  });

  test("the configuration file's temporal section, with secret references; the environment wins per field", () => {
    writeFileSync(join(scratch, 'client.key'), readFileSync(pki.clientKey));
    const yaml = `servers:
  default: { tools: "*", access: { users: ["*"] } }
temporal:
  address: acme.a1b2c.tmprl.cloud:7233
  namespace: acme.a1b2c
  taskQueue: baton-prod
  apiKey: env:ACME_TEMPORAL_KEY
  connectTimeoutSeconds: 5
  tls:
    serverCaCert: ${pki.caCert}
    clientCert: ${pki.clientCert}
    clientKey: file:client.key
    serverName: temporal.test
`;
    writeFileSync(join(scratch, 'baton.yaml'), yaml);
    const base = { BATON_CONFIG: join(scratch, 'baton.yaml'), BATON_HOME: scratch, ACME_TEMPORAL_KEY: 'cloud-key' };
    const fromFile = loadSettings(base).temporal;
    expect(fromFile).toMatchObject({ address: 'acme.a1b2c.tmprl.cloud:7233', namespace: 'acme.a1b2c', taskQueue: 'baton-prod', connectTimeoutMs: 5_000 });
    expect(nativeConnectionOptions(fromFile)).toEqual({
      address: 'acme.a1b2c.tmprl.cloud:7233',
      apiKey: 'cloud-key',
      tls: {
        serverNameOverride: 'temporal.test',
        serverRootCACertificate: readFileSync(pki.caCert),
        clientCertPair: { crt: readFileSync(pki.clientCert), key: Buffer.from(readFileSync(pki.clientKey, 'utf8').trim()) },
      },
    });
    const overridden = loadSettings({ ...base, TEMPORAL_ADDRESS: 'other:7233', TEMPORAL_NAMESPACE: 'other-ns', TEMPORAL_TLS: 'false' }).temporal;
    expect(overridden).toMatchObject({ address: 'other:7233', namespace: 'other-ns', tls: null });
    // A missing secret is named by its field, when Baton connects.
    expect(() => temporalConnectionBasics(loadSettings({ ...base, ACME_TEMPORAL_KEY: '' }).temporal)).toThrow(/temporal.apiKey in .*baton.yaml: environment variable ACME_TEMPORAL_KEY is not set/);
    // Literal secrets and vault references are refused when the file is read.
    expect(() => parseConfig('temporal:\n  apiKey: sk-literal\n', 'baton.yaml')).toThrow(/temporal.apiKey: must be a secret reference/);
    expect(() => parseConfig('temporal:\n  apiKey: vault:temporal\n', 'baton.yaml')).toThrow(/temporal.apiKey: use env:NAME or file:PATH here/);
    expect(() => parseConfig('temporal:\n  adress: x:1\n', 'baton.yaml')).toThrow(/adress/);
  });
});

describe('clear errors, fast, instead of hanging', () => {
  test('nothing listening at the address: "cannot reach", naming the address and the variable, within a second or so', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const { client, worker, ms } = await bothFail(settingsFrom({ TEMPORAL_ADDRESS: address }));
    for (const error of [client, worker]) {
      expect(error.problem).toBe('unreachable');
      expect(error.message).toContain(`Cannot reach Temporal at ${address}: connection refused`);
      expect(error.message).toContain('TEMPORAL_ADDRESS');
    }
    for (const elapsed of ms) expect(elapsed).toBeLessThan(5_000);
  });

  test('a name that does not resolve', async () => {
    const { client, worker } = await bothFail(settingsFrom({ TEMPORAL_ADDRESS: 'temporal.invalid:7233' }));
    for (const error of [client, worker]) expect(error.message).toMatch(/Cannot reach Temporal at temporal.invalid:7233: the name does not resolve/);
  });

  test('a port that accepts connections but never answers: gives up after the connect timeout', async () => {
    const held = new Set<Socket>();
    const silent: Server = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const { client, worker, ms } = await bothFail(settingsFrom({ TEMPORAL_ADDRESS: address, BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS: '1' }));
      for (const error of [client, worker]) {
        expect(error.problem).toBe('no-answer');
        expect(error.message).toContain(`Temporal at ${address} accepts connections but no Temporal connection was made within 1 s`);
      }
      for (const elapsed of ms) expect(elapsed).toBeLessThan(8_000);
    } finally {
      silent.close();
      for (const socket of held) socket.destroy();
    }
  });

  test('an unknown namespace: names it and says how to fix it', async () => {
    const { client, worker } = await bothFail(settingsFrom({ TEMPORAL_ADDRESS: devServer, TEMPORAL_NAMESPACE: 'no-such-namespace' }));
    for (const error of [client, worker]) {
      expect(error.problem).toBe('namespace-not-found');
      expect(error.message).toContain(`Temporal at ${devServer} has no namespace "no-such-namespace" (TEMPORAL_NAMESPACE)`);
      expect(error.message).toContain('temporal operator namespace create --namespace no-such-namespace');
    }
  });

  test('a TLS setting pointing at a missing file: names the variable and the file', async () => {
    const missing = join(scratch, 'nope', 'ca.pem');
    const { client, worker } = await bothFail(settingsFrom({ TEMPORAL_ADDRESS: devServer, TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing }));
    for (const error of [client, worker]) {
      expect(error.problem).toBe('settings');
      expect(error.message).toBe(`Cannot read ${missing}, named by TEMPORAL_TLS_SERVER_CA_CERT_PATH (no such file): point it at the PEM file.`);
    }
    writeFileSync(join(scratch, 'not-pem.txt'), 'hello');
    const notPem = await bothFail(settingsFrom({ TEMPORAL_ADDRESS: devServer, TEMPORAL_TLS_CLIENT_CERT_PATH: join(scratch, 'not-pem.txt'), TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey }));
    expect(notPem.worker.message).toMatch(/not-pem.txt \(TEMPORAL_TLS_CLIENT_CERT_PATH\) is not PEM/);
  });

  test('TLS towards a plaintext server: says the server does not speak TLS', async () => {
    const { client, worker } = await bothFail(settingsFrom({ TEMPORAL_ADDRESS: devServer, TEMPORAL_TLS: 'true', BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS: '3' }));
    for (const error of [client, worker]) {
      expect(error.problem).toBe('not-tls');
      expect(error.message).toMatch(/does not speak TLS on that port \(wrong version number\)\. For a plaintext server .*set TEMPORAL_TLS=false/);
    }
  });

  test('the worker and gateway processes refuse to start (exit 1, the reason on stderr) rather than hang', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const home = mkdtempSync(join(tmpdir(), 'baton-refuse-'));
    const env = { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', BATON_HOME: home, TEMPORAL_ADDRESS: address, BATON_WORKFLOW_BUNDLE: process.env.BATON_TEST_WORKFLOW_BUNDLE };
    try {
      const worker = await new BatonProcess(env, ['worker']).runToEnd();
      expect(worker.code).toBe(1);
      expect(worker.output).toContain(`worker failed: Cannot reach Temporal at ${address}: connection refused`);
      const gateway = await new BatonProcess({
        ...env,
        PORT: '0',
        BATON_IDP_ISSUER: 'http://127.0.0.1:9/idp',
        BATON_IDP_JWKS: '{"keys":[]}',
        BATON_IDP_CLIENT_ID: 'x',
        BATON_IDP_CLIENT_SECRET: 'y',
      }).runToEnd();
      expect(gateway.code).toBe(1);
      expect(gateway.output).toContain(`gateway failed to start: Cannot reach Temporal at ${address}: connection refused`);
      expect(worker.ms + gateway.ms).toBeLessThan(30_000);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('TLS for real, through a TLS front of the dev server', () => {
  let front: TlsFrontend;
  let mtlsFront: TlsFrontend;
  let cloudFront: TlsFrontend;
  beforeAll(async () => {
    front = await startTlsFrontend({ upstream: devServer, pki });
    mtlsFront = await startTlsFrontend({ upstream: devServer, pki, requireClientCertificate: true });
    cloudFront = await startTlsFrontend({ upstream: devServer, pki, apiKey: 'the-right-key' });
  });
  afterAll(async () => {
    await Promise.all([front?.close(), mtlsFront?.close(), cloudFront?.close()]);
  });

  const tlsEnv = (address: string, extra: NodeJS.ProcessEnv = {}) =>
    settingsFrom({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert, TEMPORAL_TLS_SERVER_NAME: pki.serverName, BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS: '5', ...extra });

  test('server-authenticated TLS with a private CA and a server name: both connections work', async () => {
    await bothConnect(tlsEnv(front.address));
  });

  test("mTLS: with Baton's client certificate both connections work", async () => {
    await bothConnect(tlsEnv(mtlsFront.address, { TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey }));
  });

  test('API key: sent as a bearer token over TLS; the right one works, a wrong one is "refused" naming TEMPORAL_API_KEY', async () => {
    await bothConnect(tlsEnv(cloudFront.address, { TEMPORAL_API_KEY: 'the-right-key' }));
    expect(cloudFront.authorizations.length).toBeGreaterThan(0);
    expect(new Set(cloudFront.authorizations)).toEqual(new Set(['Bearer the-right-key']));
    const { client, worker } = await bothFail(tlsEnv(cloudFront.address, { TEMPORAL_API_KEY: 'a-wrong-key' }));
    for (const error of [client, worker]) {
      expect(error.problem).toBe('unauthorized');
      expect(error.message).toContain(`Temporal at ${cloudFront.address} did not accept Baton's credentials`);
      expect(error.message).toContain('Check the API key in TEMPORAL_API_KEY');
    }
  });

  test('a server certificate Baton does not trust: says to set the CA', async () => {
    const { client, worker } = await bothFail(
      settingsFrom({ TEMPORAL_ADDRESS: front.address, TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_NAME: pki.serverName, BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS: '3' }),
    );
    for (const error of [client, worker]) {
      expect(error.problem).toBe('tls');
      expect(error.message).toMatch(new RegExp(`TLS handshake with Temporal at ${front.address} failed: .*set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA certificate that signed it`));
    }
  });

  test('a server certificate that does not name the host: says to set TEMPORAL_TLS_SERVER_NAME', async () => {
    const { client, worker } = await bothFail(settingsFrom({ TEMPORAL_ADDRESS: front.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert, BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS: '3' }));
    for (const error of [client, worker]) {
      expect(error.problem).toBe('tls');
      expect(error.message).toContain("The server's certificate does not name the host Baton connects to");
      expect(error.message).toContain('TEMPORAL_TLS_SERVER_NAME');
    }
  });

  test('mTLS without a client certificate, or with one from another CA: says which', async () => {
    const none = await bothFail(tlsEnv(mtlsFront.address));
    for (const error of [none.client, none.worker]) {
      expect(error.problem).toBe('tls');
      expect(error.message).toContain('The server requires a client certificate (mTLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH');
    }
    const stranger = await bothFail(tlsEnv(mtlsFront.address, { TEMPORAL_TLS_CLIENT_CERT_PATH: pki.strangerClientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.strangerClientKey }));
    for (const error of [stranger.client, stranger.worker]) {
      expect(error.problem).toBe('tls');
      expect(error.message).toContain(`refused Baton's client certificate (${pki.strangerClientCert})`);
    }
  });

  test('plaintext towards a TLS server: says to turn TLS on', async () => {
    const { client, worker } = await bothFail(settingsFrom({ TEMPORAL_ADDRESS: front.address, BATON_TEMPORAL_CONNECT_TIMEOUT_SECONDS: '3' }));
    for (const error of [client, worker]) {
      expect(error.problem).toBe('expects-tls');
      expect(error.message).toContain(`Temporal at ${front.address} speaks TLS, and Baton connected without it: set TEMPORAL_TLS=true`);
    }
  });
});
