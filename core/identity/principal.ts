/** Who is calling, as inbound authentication established it. */
export interface Principal {
  kind: 'user' | 'service';
  authMethod: 'oauth' | 'api_token' | 'passthrough';
  /** IdP `sub`, or `api-token:<name>` for API tokens. */
  subject: string;
  email: string | null;
  name: string | null;
  /** `tenant` claim, else the configured default tenant. */
  tenant: string;
  /** `groups` claim (array of strings), else []. */
  groups: string[];
  /** Token `iss`, or 'urn:baton:api-token'. */
  issuer: string;
  /** `client_id` or `azp` claim; API tokens: null. */
  clientId: string | null;
  /** From `scope` (space separated) or `scp` (array). */
  scopes: string[];
  /** Epoch seconds (`exp`); API tokens: null. */
  expiresAt: number | null;
  apiTokenId: string | null;
}
