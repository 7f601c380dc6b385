import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { TLSConfig } from '@temporalio/client';

/**
 * What is at a Temporal address, looked at directly (TCP, then TLS, then the HTTP/2 greeting gRPC runs
 * on), so that a failed connection can be explained: nothing listening, the name does not resolve,
 * a TLS handshake refused for a given reason, TLS on one side only.
 */
export type ProbeResult =
  | { kind: 'ok' }
  | { kind: 'unreachable'; detail: string }
  /** TCP connects but nothing answers like an HTTP/2 (gRPC) server. */
  | { kind: 'silent'; detail: string }
  | { kind: 'tls-failed'; detail: string; code: string | undefined }
  /** Baton speaks plaintext, the server TLS. */
  | { kind: 'expects-tls' }
  /** Baton speaks TLS, the server plaintext. */
  | { kind: 'not-tls'; detail: string };

/** The HTTP/2 client preface and an empty SETTINGS frame: any HTTP/2 server answers with its own SETTINGS. */
const http2Greeting = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
const SETTINGS_FRAME = 4;

export function splitAddress(address: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 7233) };
  const [host, port] = address.split(':');
  return { host: host!, port: Number(port ?? 7233) };
}

export async function probeTemporalEndpoint(address: string, tls: TLSConfig | false, timeoutMs = 3_000): Promise<ProbeResult> {
  const { host, port } = splitAddress(address);
  const tcp = await openTcp(host, port, timeoutMs);
  if ('error' in tcp) return { kind: 'unreachable', detail: describeSocketError(tcp.error, timeoutMs) };
  tcp.socket.destroy();
  if (tls === false) {
    const greeting = await http2Answer(tcpConnect({ host, port }), timeoutMs);
    if (greeting === null) return { kind: 'ok' };
    if ((greeting as NodeJS.ErrnoException).code === 'ETIMEDOUT') return { kind: 'silent', detail: greeting.message };
    // Not plaintext HTTP/2: does it complete a TLS handshake (whatever its certificate)?
    const anyTls = await tlsHandshake(host, port, { rejectUnauthorized: false }, timeoutMs);
    return anyTls === null ? { kind: 'expects-tls' } : { kind: 'silent', detail: greeting.message };
  }
  const servername = tls.serverNameOverride ?? (isIP(host) ? undefined : host);
  const options = {
    ...(servername ? { servername } : {}),
    ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
    ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
    // With a name override, check the certificate against that name (as gRPC does), not the address's host.
    ...(tls.serverNameOverride ? { checkServerIdentity: checkAgainst(tls.serverNameOverride) } : {}),
  };
  const failure = await tlsHandshake(host, port, options, timeoutMs, true);
  if (failure === null) return { kind: 'ok' };
  if (looksPlaintext(failure)) return { kind: 'not-tls', detail: tidy(failure) };
  if ((failure as NodeJS.ErrnoException).code === 'ETIMEDOUT') return { kind: 'silent', detail: failure.message };
  return { kind: 'tls-failed', detail: tidy(failure), code: (failure as NodeJS.ErrnoException).code };
}

function checkAgainst(name: string) {
  return (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert);
}

function openTcp(host: string, port: number, timeoutMs: number): Promise<{ socket: Socket } | { error: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ error: Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }) });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      resolve({ error });
    });
  });
}

/** Sends the HTTP/2 greeting: null when an HTTP/2 server answered, else what went wrong or came instead. */
function http2Answer(socket: Socket | TLSSocket, timeoutMs: number): Promise<Error | null> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const done = (answer: Error | string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(typeof answer === 'string' ? new Error(answer) : answer);
    };
    const timer = setTimeout(() => done(Object.assign(new Error(`no HTTP/2 answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
    const send = () => socket.write(http2Greeting);
    if ('encrypted' in socket) send();
    else socket.once('connect', send);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 9) return;
      if (received[3] === SETTINGS_FRAME) done(null);
      else if (received[0] === 0x15 || received[0] === 0x16) done('a TLS record');
      else
        done(
          `an answer that is not HTTP/2 ("${received
            .subarray(0, 24)
            .toString('latin1')
            .replace(/[^\x20-\x7e]/g, '.')}")`,
        );
    });
    socket.once('error', (error) => done(error));
    socket.once('close', () => done('the connection was closed without an answer'));
  });
}

/**
 * A TLS handshake, and (with `thenHttp2`) the HTTP/2 greeting over it: with TLS 1.3 a server refusing
 * the client's certificate says so only after the client considers the handshake done. Resolves null
 * on success, else the error.
 */
function tlsHandshake(host: string, port: number, options: Record<string, unknown>, timeoutMs: number, thenHttp2 = false): Promise<Error | null> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const socket = tlsConnect({ host, port, ALPNProtocols: ['h2'], ...options });
    const timer = setTimeout(() => finish(Object.assign(new Error(`no TLS answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
    const onError = (error: Error) => finish(error);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      if (!thenHttp2) return finish(null);
      socket.off('error', onError);
      // A server refusing the client's certificate may just hang up once the handshake is done.
      void http2Answer(socket, timeoutMs).then((answer) =>
        finish(
          answer && /closed without an answer|ECONNRESET/.test(`${(answer as NodeJS.ErrnoException).code} ${answer.message}`)
            ? Object.assign(new Error('the server closed the connection right after the TLS handshake'), { code: 'CLOSED_AFTER_HANDSHAKE' })
            : answer,
        ),
      );
    });
  });
}

function looksPlaintext(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE|ECONNRESET/.test(code) || /disconnected before secure TLS connection/i.test(error.message);
}

function describeSocketError(error: NodeJS.ErrnoException, timeoutMs: number): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens there';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the name does not resolve (${error.code})`;
    case 'ETIMEDOUT':
      return `no answer within ${timeoutMs / 1000} s`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${error.code})`;
    default:
      return error.message;
  }
}

/** OpenSSL's messages carry a location ("...:SSL routines:fn:wrong version number:../deps/..."): keep the reason. */
function tidy(error: NodeJS.ErrnoException): string {
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1];
  return (reason ?? error.message).replace(/\s+/g, ' ').trim();
}
