import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** Epoch milliseconds; Infinity for records without a lifetime (registered clients). */
  expiresAt: number;
}

/** Records that belong to a grant: revoking the grant (e.g. refresh token reuse) removes them all. */
const grantBound = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * oidc-provider's storage, kept in memory per sandbox instance (the library's own in-memory adapter
 * shares one module-level store between providers, and is not exported).
 *
 * `findUnknownClient` is asked about client ids nobody registered: that is where client ID metadata
 * documents are resolved, since oidc-provider's built-in support only accepts https client ids.
 */
export function createMemoryAdapter(options: { findUnknownClient?: (id: string) => Promise<AdapterPayload | undefined> } = {}): AdapterFactory {
  const entries = new Map<string, Entry>();
  const sessionKeysByUid = new Map<string, string>();
  const grantMembers = new Map<string, Set<string>>();

  const read = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (Date.now() < entry.expiresAt) return entry.payload;
    entries.delete(key);
    return undefined;
  };

  return (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        entries.set(key, { payload, expiresAt: expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000 });
        if (model === 'Session' && payload.uid) sessionKeysByUid.set(payload.uid, key);
        if (grantBound.has(model) && payload.grantId) {
          const members = grantMembers.get(payload.grantId) ?? new Set<string>();
          grantMembers.set(payload.grantId, members.add(key));
        }
      },
      async find(id) {
        const found = read(keyOf(id));
        if (found || model !== 'Client' || !options.findUnknownClient) return found;
        return options.findUnknownClient(id);
      },
      async findByUid(uid) {
        const key = sessionKeysByUid.get(uid);
        return key === undefined ? undefined : read(key);
      },
      async findByUserCode(userCode) {
        // Only the device flow looks records up by user code, and the sandbox does not enable it.
        for (const key of entries.keys()) {
          const payload = key.startsWith(`${model}:`) ? read(key) : undefined;
          if (payload?.userCode === userCode) return payload;
        }
        return undefined;
      },
      async consume(id) {
        const payload = read(keyOf(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        entries.delete(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const key of grantMembers.get(grantId) ?? []) entries.delete(key);
        grantMembers.delete(grantId);
      },
    };
  };
}
