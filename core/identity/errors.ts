/** The identity carried with a run is missing, forged, tampered with, expired or signed by an unknown key. */
export class IdentityRejectedError extends Error {
  override name = 'IdentityRejectedError';
  readonly code = 'IDENTITY_REJECTED';
}
