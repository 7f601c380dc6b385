/** The cache behind client-credentials and exchanged tokens: reused until near expiry, fetched once however many ask. */
import { setTimeout as sleep } from 'node:timers/promises';
import { ExpiringTokenCache, type ExpiringToken } from '../core/oauth/token-cache.ts';

function issuer(lifetimeMs: number) {
  let issued = 0;
  return {
    get count() {
      return issued;
    },
    fetch: async (): Promise<ExpiringToken> => {
      issued += 1;
      await sleep(50); // a token endpoint takes a moment; concurrent callers arrive meanwhile
      return { token: `token-${issued}`, expiresAt: Date.now() + lifetimeMs, lifetimeMs };
    },
  };
}

test('twenty concurrent callers share one fetch', async () => {
  const cache = new ExpiringTokenCache(() => 0);
  const tokens = issuer(60_000);
  const got = await Promise.all(Array.from({ length: 20 }, () => cache.get('app', tokens.fetch)));
  expect(new Set(got)).toEqual(new Set(['token-1']));
  expect(tokens.count).toBe(1);
});

test('a token is reused until it is within the margin of expiry, then fetched again once', async () => {
  const cache = new ExpiringTokenCache((token) => token.lifetimeMs / 10); // the client-credentials rule
  const tokens = issuer(600);
  expect(await cache.get('app', tokens.fetch)).toBe('token-1');
  expect(await cache.get('app', tokens.fetch)).toBe('token-1');
  await sleep(560); // past 90 % of its life
  const again = await Promise.all([cache.get('app', tokens.fetch), cache.get('app', tokens.fetch)]);
  expect(again).toEqual(['token-2', 'token-2']);
  expect(tokens.count).toBe(2);
});

test('keys are separate, and a failed fetch is not cached', async () => {
  const cache = new ExpiringTokenCache(() => 0);
  const tokens = issuer(60_000);
  await cache.get('a', tokens.fetch);
  await cache.get('b', tokens.fetch);
  expect(tokens.count).toBe(2);
  await expect(cache.get('c', async () => Promise.reject(new Error('token endpoint down')))).rejects.toThrow('token endpoint down');
  expect(await cache.get('c', tokens.fetch)).toBe('token-3');
});
