import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files (paths) of a throw-away PKI: a CA, a server certificate and a client certificate it signed, and a stranger CA's client certificate. */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the server does not know. */
  strangerClientCert: string;
  strangerClientKey: string;
  /** The only name the server certificate lists. */
  serverName: string;
  remove(): void;
}

/**
 * Makes the PKI with the openssl command line (EC P-256, valid two days). The server certificate names
 * only `temporal.test`, so connecting to 127.0.0.1 needs TEMPORAL_TLS_SERVER_NAME.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'baton-pki-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', at(name));
  const newCa = (name: string, subject: string) => {
    newKey(`${name}.key`);
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      at(`${name}.key`),
      '-out',
      at(`${name}.pem`),
      '-days',
      '2',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  };
  const issue = (name: string, ca: string, subject: string, extensions: string) => {
    newKey(`${name}.key`);
    openssl('req', '-new', '-key', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', subject);
    writeFileSync(at(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at(`${ca}.pem`), '-CAkey', at(`${ca}.key`), '-CAcreateserial', '-out', at(`${name}.pem`), '-days', '2', '-extfile', at(`${name}.ext`));
  };
  newCa('ca', '/CN=Baton Test CA');
  newCa('stranger-ca', '/CN=Somebody Else CA');
  issue('server', 'ca', '/CN=temporal.test', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:temporal.test\n');
  issue('client', 'ca', '/CN=baton-worker', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  issue('stranger-client', 'stranger-ca', '/CN=baton-worker', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    strangerClientCert: at('stranger-client.pem'),
    strangerClientKey: at('stranger-client.key'),
    serverName: 'temporal.test',
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsFrontend {
  /** 127.0.0.1:PORT */
  address: string;
  /** The `authorization` header of every call, as the frontend received it. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

/**
 * A TLS front for a plaintext Temporal (the dev server has no TLS of its own), like a load balancer or
 * Temporal Cloud's edge: terminates TLS (optionally requiring a client certificate from `clientCa`),
 * optionally refuses calls without `Authorization: Bearer <apiKey>` the way Temporal Cloud does
 * (gRPC UNAUTHENTICATED), and passes every gRPC call on to `upstream` unchanged.
 */
export async function startTlsFrontend(options: { upstream: string; pki: TestPki; requireClientCertificate?: boolean; apiKey?: string }): Promise<TlsFrontend> {
  const { pki } = options;
  const authorizations: (string | undefined)[] = [];
  let upstream: ClientHttp2Session | undefined;
  const session = () => {
    if (!upstream || upstream.closed || upstream.destroyed) {
      upstream = http2.connect(`http://${options.upstream}`);
      upstream.on('error', () => undefined);
    }
    return upstream;
  };
  const server = http2.createSecureServer({
    cert: readFileSync(pki.serverCert),
    key: readFileSync(pki.serverKey),
    ca: readFileSync(pki.caCert),
    requestCert: options.requireClientCertificate ?? false,
    rejectUnauthorized: options.requireClientCertificate ?? false,
    allowHTTP1: false,
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const authorization = headers.authorization as string | undefined;
    authorizations.push(authorization);
    if (options.apiKey !== undefined && authorization !== `Bearer ${options.apiKey}`) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'Request unauthorized.' }, { endStream: true });
      return;
    }
    const forwarded: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) if (name !== ':scheme' && value !== undefined) forwarded[name] = value;
    const call = session().request(forwarded);
    call.on('error', () => stream.destroy());
    stream.on('close', () => call.destroyed || call.close());
    stream.pipe(call);
    let trailers: IncomingHttpHeaders = {};
    call.on('trailers', (received) => (trailers = received));
    call.on('response', (responseHeaders) => {
      const answer = withoutUndefined(responseHeaders);
      if ('grpc-status' in responseHeaders) {
        stream.respond(answer, { endStream: true }); // trailers-only answer (an error)
        return;
      }
      stream.respond(answer, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(withoutUndefined(trailers)));
      call.pipe(stream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    authorizations,
    close: async () => {
      upstream?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open HTTP/2 sessions (a connection under test) would keep it open.
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function withoutUndefined(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}
