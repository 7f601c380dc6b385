import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose';
import { createAccessTokenVerifier, InboundAuthError, requireScopes, type AccessTokenVerifierOptions } from '../gateway/auth/access-token-verifier.ts';
import type { Principal } from '../gateway/auth/principal.ts';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'http://127.0.0.1:3000/mcp';

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function newSigningKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A real JWKS endpoint on loopback whose published keys the test changes at will. */
interface JwksServer {
  url: string;
  publish(keys: JWK[]): void;
  fetches(): number;
  stop(): Promise<void>;
}

async function startJwksServer(keys: JWK[], options: { hang?: boolean } = {}): Promise<JwksServer> {
  let published = keys;
  let fetchCount = 0;
  const server: Server = createServer((request, response) => {
    fetchCount += 1;
    if (options.hang) return; // never answers: the verifier's timeout must fire
    if (request.url !== '/jwks') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks`,
    publish: (next) => {
      published = next;
    },
    fetches: () => fetchCount,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive sockets would otherwise keep serving the old keys
      }),
  };
}

type Claims = Record<string, unknown>;

function claims(overrides: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  const all: Claims = { iss: ISSUER, aud: AUDIENCE, sub: 'user-123', iat: now, exp: now + 300, scope: 'mcp:tools', ...overrides };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

async function sign(key: SigningKey, overrides: Claims = {}, header: { kid?: string | undefined } = { kid: key.kid }): Promise<string> {
  return new SignJWT(claims(overrides)).setProtectedHeader({ alg: key.alg, typ: 'at+jwt', ...header }).sign(key.privateKey);
}

/** Asserts the specific failure, and that the message never echoes the token. */
async function expectRejected(attempt: Promise<unknown>, code: string, status: number, fragment: string, token?: string): Promise<InboundAuthError> {
  const error = await attempt.then(
    () => {
      throw new Error('expected the token to be rejected');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InboundAuthError);
  const authError = error as InboundAuthError;
  expect({ code: authError.code, status: authError.status }).toEqual({ code, status });
  expect(authError.message).toContain(fragment);
  if (token) expect(authError.message).not.toContain(token);
  return authError;
}

let keyOne: SigningKey;
let impostor: SigningKey; // a different key pair that claims keyOne's kid
let stranger: SigningKey; // a key the IdP never published
let ecKey: SigningKey;
let jwks: JwksServer;
const cleanups: Array<() => Promise<void>> = [];

function verifierFor(url: string, extra: Partial<AccessTokenVerifierOptions> = {}) {
  return createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { url }, ...extra });
}

beforeAll(async () => {
  keyOne = await newSigningKey('key-1');
  impostor = await newSigningKey('key-1');
  stranger = await newSigningKey('key-unknown');
  ecKey = await newSigningKey('key-ec', 'ES256');
  jwks = await startJwksServer([keyOne.jwk, ecKey.jwk]);
});

afterAll(async () => {
  await jwks.stop();
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('access token verifier (remote JWKS)', () => {
  test('a valid token yields the full principal', async () => {
    // A fixed expiry, so the expectation cannot fall on the other side of a second boundary.
    const exp = Math.floor(Date.now() / 1000) + 300;
    const token = await sign(keyOne, {
      exp,
      email: 'alice@example.test',
      name: 'Alice Example',
      tenant: 'acme',
      groups: ['eng', 'ops'],
      client_id: 'agent-app',
      scope: 'mcp:tools profile',
    });
    const principal = await verifierFor(jwks.url).verify(token);
    expect(principal).toEqual<Principal>({
      kind: 'user',
      authMethod: 'oauth',
      subject: 'user-123',
      email: 'alice@example.test',
      name: 'Alice Example',
      tenant: 'acme',
      groups: ['eng', 'ops'],
      issuer: ISSUER,
      clientId: 'agent-app',
      scopes: ['mcp:tools', 'profile'],
      expiresAt: exp,
      apiTokenId: null,
    });
  });

  test('optional claims fall back to defaults; scp and azp are read; a client-credentials token is a service', async () => {
    const verifier = verifierFor(jwks.url, { defaultTenant: 'fallback' });
    const token = await sign(ecKey, { scope: undefined, scp: ['mcp:tools', 'files:read'], azp: 'ci-bot', sub: 'ci-bot', groups: 'admins', email: 42 });
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({
      kind: 'service',
      tenant: 'fallback',
      groups: [],
      email: null,
      name: null,
      clientId: 'ci-bot',
      scopes: ['mcp:tools', 'files:read'],
    });
  });

  test('the audience matches with or without one trailing slash, and an aud array naming it is accepted', async () => {
    const verifier = verifierFor(jwks.url);
    await expect(verifier.verify(await sign(keyOne, { aud: `${AUDIENCE}/` }))).resolves.toMatchObject({ subject: 'user-123' });
    await expect(verifier.verify(await sign(keyOne, { aud: ['https://other.example.test', AUDIENCE] }))).resolves.toMatchObject({ subject: 'user-123' });
    const slashVerifier = verifierFor(jwks.url, { audience: `${AUDIENCE}/` });
    await expect(slashVerifier.verify(await sign(keyOne))).resolves.toMatchObject({ subject: 'user-123' });
  });

  test('no token, or an empty one', async () => {
    const verifier = verifierFor(jwks.url);
    await expectRejected(verifier.verify(''), 'invalid_token', 401, 'No bearer token was sent');
    await expectRejected(verifier.verify('   '), 'invalid_token', 401, 'No bearer token was sent');
    await expectRejected(verifier.verify(undefined as unknown as string), 'invalid_token', 401, 'No bearer token was sent');
  });

  test('a malformed token', async () => {
    await expectRejected(verifierFor(jwks.url).verify('abc.def'), 'invalid_token', 401, 'not a well-formed signed JWT', 'abc.def');
  });

  test('an expired token (beyond the clock tolerance); one just inside the tolerance still passes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const verifier = verifierFor(jwks.url);
    const expired = await sign(keyOne, { iat: now - 600, exp: now - 120 });
    await expectRejected(verifier.verify(expired), 'invalid_token', 401, 'The bearer token has expired', expired);
    await expect(verifier.verify(await sign(keyOne, { exp: now - 10 }))).resolves.toMatchObject({ subject: 'user-123' });
  });

  test('a token not valid yet (nbf beyond the tolerance)', async () => {
    const token = await sign(keyOne, { nbf: Math.floor(Date.now() / 1000) + 600 });
    await expectRejected(verifierFor(jwks.url).verify(token), 'invalid_token', 401, 'The bearer token is not valid yet', token);
  });

  test('a token from another issuer', async () => {
    const token = await sign(keyOne, { iss: 'https://evil.example.test' });
    await expectRejected(verifierFor(jwks.url).verify(token), 'invalid_token', 401, `was issued by "https://evil.example.test", but this server accepts tokens from ${ISSUER} only`, token);
  });

  test('a token for another audience', async () => {
    const token = await sign(keyOne, { aud: 'https://other.example.test/mcp' });
    await expectRejected(verifierFor(jwks.url).verify(token), 'invalid_token', 401, `was issued for "https://other.example.test/mcp", not for this server (${AUDIENCE})`, token);
  });

  test('an unsecured token (alg none)', async () => {
    const token = new UnsecuredJWT(claims()).encode();
    await expectRejected(verifierFor(jwks.url).verify(token), 'invalid_token', 401, 'signed with algorithm "none", which this server does not accept', token);
  });

  test('HS256 signed with the public key as HMAC secret (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(await exportSPKI(keyOne.publicKey));
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: keyOne.kid }).sign(secret);
    await expectRejected(verifierFor(jwks.url).verify(token), 'invalid_token', 401, 'signed with algorithm "HS256"', token);
  });

  test('a signing key the identity provider does not publish', async () => {
    const token = await sign(stranger);
    await expectRejected(verifierFor(jwks.url).verify(token), 'invalid_token', 401, `The token's signing key "key-unknown" is not one the identity provider publishes at ${jwks.url}`, token);
  });

  test('a signature by another key under a published kid', async () => {
    const token = await sign(impostor);
    await expectRejected(verifierFor(jwks.url).verify(token), 'invalid_token', 401, 'signature does not match the identity provider\'s key "key-1"', token);
  });

  test('a token without exp', async () => {
    const token = await sign(keyOne, { exp: undefined });
    await expectRejected(verifierFor(jwks.url).verify(token), 'invalid_token', 401, 'has no expiry (exp claim)', token);
  });

  test('a token without sub', async () => {
    const token = await sign(keyOne, { sub: undefined });
    await expectRejected(verifierFor(jwks.url).verify(token), 'invalid_token', 401, 'lacks the required sub claim', token);
  });

  test('keys that cannot be fetched fail closed with auth_unavailable / 503', async () => {
    const server = await startJwksServer([keyOne.jwk]);
    // Max age 0: every verification refetches, so the stop is seen at once instead of after 10 minutes.
    const verifier = verifierFor(server.url, { jwksCacheMaxAgeMs: 0 });
    const token = await sign(keyOne);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'user-123' });
    await verifier.checkKeys();
    await server.stop();
    const error = await expectRejected(verifier.verify(token), 'auth_unavailable', 503, `the identity provider's keys at ${server.url} could not be fetched`, token);
    expect(error.message).toMatch(/ECONNREFUSED.*Try again shortly\.$/);
    await expectRejected(verifier.checkKeys(), 'auth_unavailable', 503, 'could not be fetched');
  });

  test('a JWKS endpoint that does not answer times out into auth_unavailable', async () => {
    const server = await startJwksServer([], { hang: true });
    cleanups.push(server.stop);
    const verifier = verifierFor(server.url, { jwksTimeoutMs: 200 });
    await expectRejected(verifier.verify(await sign(keyOne)), 'auth_unavailable', 503, 'could not be fetched (no answer within 200 ms)');
  });

  test('a JWKS endpoint answering an error status is auth_unavailable', async () => {
    const verifier = verifierFor(jwks.url.replace(/\/jwks$/, '/missing'));
    await expectRejected(verifier.verify(await sign(keyOne)), 'auth_unavailable', 503, 'Expected 200 OK');
    await expectRejected(verifier.checkKeys(), 'auth_unavailable', 503, 'Expected 200 OK');
  });

  test('an identity provider that publishes no keys is not ready', async () => {
    const server = await startJwksServer([]);
    cleanups.push(server.stop);
    await expectRejected(verifierFor(server.url).checkKeys(), 'auth_unavailable', 503, 'publishes no keys');
  });

  test('key rotation: a new kid is fetched once the cooldown has passed', async () => {
    const keyTwo = await newSigningKey('key-2');
    const server = await startJwksServer([keyOne.jwk]);
    cleanups.push(server.stop);
    const verifier = verifierFor(server.url, { jwksCooldownMs: 1500 });
    await expect(verifier.verify(await sign(keyOne))).resolves.toMatchObject({ subject: 'user-123' });
    expect(server.fetches()).toBe(1);

    server.publish([keyOne.jwk, keyTwo.jwk]);
    const rotated = await sign(keyTwo);
    // Within the cooldown an unknown kid does not hit the identity provider again (no refetch storms).
    await expectRejected(verifier.verify(rotated), 'invalid_token', 401, 'signing key "key-2" is not one the identity provider publishes');
    expect(server.fetches()).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 1600));
    await expect(verifier.verify(rotated)).resolves.toMatchObject({ subject: 'user-123' });
    expect(server.fetches()).toBe(2);
    await expect(verifier.verify(await sign(keyOne))).resolves.toMatchObject({ subject: 'user-123' });
    expect(server.fetches()).toBe(2);
  });
});

describe('access token verifier (inline JWKS)', () => {
  test('verifies against the configured keys', async () => {
    const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [keyOne.jwk] } });
    await verifier.checkKeys();
    await expect(verifier.verify(await sign(keyOne))).resolves.toMatchObject({ subject: 'user-123', issuer: ISSUER });
    await expectRejected(verifier.verify(await sign(stranger)), 'invalid_token', 401, 'is not one the identity provider publishes in the configured key set');
  });

  test('a token without kid is tried against every matching key', async () => {
    const keyTwo = await newSigningKey('key-2');
    const verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [keyOne.jwk, keyTwo.jwk] } });
    await expect(verifier.verify(await sign(keyTwo, {}, { kid: undefined }))).resolves.toMatchObject({ subject: 'user-123' });
    await expectRejected(verifier.verify(await sign(stranger, {}, { kid: undefined })), 'invalid_token', 401, 'signature does not match');
  });

  test('refuses unsafe configuration', async () => {
    const base = { issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [keyOne.jwk] } };
    expect(() => createAccessTokenVerifier({ ...base, algorithms: ['RS256', 'HS256'] })).toThrow(/HS256 cannot verify access tokens/);
    expect(() => createAccessTokenVerifier({ ...base, algorithms: ['none'] })).toThrow(/none cannot verify access tokens/);
    const privateJwk = await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey);
    expect(() => createAccessTokenVerifier({ ...base, jwks: { keys: [privateJwk] } })).toThrow(/public keys only/);
  });
});

describe('requireScopes', () => {
  const principal: Principal = {
    kind: 'user',
    authMethod: 'oauth',
    subject: 'user-123',
    email: null,
    name: null,
    tenant: 'default',
    groups: [],
    issuer: ISSUER,
    clientId: 'agent-app',
    scopes: ['mcp:tools'],
    expiresAt: null,
    apiTokenId: null,
  };

  test('passes when every scope is granted', () => {
    expect(() => requireScopes(principal, ['mcp:tools'])).not.toThrow();
    expect(() => requireScopes(principal, [])).not.toThrow();
  });

  test('lists the missing scopes for a step-up challenge', async () => {
    const error = await expectRejected(
      (async () => requireScopes(principal, ['mcp:tools', 'mcp:admin', 'files:write']))(),
      'insufficient_scope',
      403,
      'lacks the scopes mcp:admin files:write (it has: mcp:tools)',
    );
    expect(error.requiredScopes).toEqual(['mcp:tools', 'mcp:admin', 'files:write']);
  });
});
