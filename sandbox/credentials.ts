/** The authentication schemes the sandbox distinguishes in an `Authorization` header. */
export type CredentialScheme = 'bearer' | 'token' | 'basic' | 'none';

export interface PresentedCredential {
  scheme: CredentialScheme;
  /** The raw token, or the user name of Basic credentials; null when nothing usable was sent. */
  value: string | null;
  /** The password half of Basic credentials. */
  password: string | null;
}

const nothing: PresentedCredential = { scheme: 'none', value: null, password: null };

/**
 * Reads an `Authorization` header. `token X` is GitHub's historical scheme; any scheme the sandbox does
 * not know counts as no credential at all.
 */
export function readAuthorization(header: string | undefined): PresentedCredential {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(header ?? '');
  if (!match) return nothing;
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!;
  if (scheme === 'bearer') return { scheme: 'bearer', value, password: null };
  if (scheme === 'token') return { scheme: 'token', value, password: null };
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { scheme: 'basic', value: decoded, password: null };
    return { scheme: 'basic', value: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return nothing;
}
