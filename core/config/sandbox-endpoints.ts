import type { AppEndpoints } from '../../apps/index.ts';

/** Where each app lives inside the local sandbox (see sandbox/): the real paths under a per-app prefix. */
export function sandboxEndpoints(sandboxUrl: string, app: string): AppEndpoints {
  const root = sandboxUrl.replace(/\/$/, '');
  switch (app) {
    case 'github':
      return {
        apiBaseUrl: `${root}/github/api`,
        authorizeUrl: `${root}/github/login/oauth/authorize`,
        tokenUrl: `${root}/github/login/oauth/access_token`,
        // Revocation is GitHub's API endpoint (DELETE /applications/{client_id}/token), found from apiBaseUrl.
      };
    case 'slack':
      return {
        apiBaseUrl: `${root}/slack/api`,
        authorizeUrl: `${root}/slack/oauth/v2/authorize`,
        tokenUrl: `${root}/slack/api/oauth.v2.access`,
        revokeUrl: `${root}/slack/api/auth.revoke`,
      };
    case 'jira':
      return { apiBaseUrl: `${root}/jira` };
    case 'crm':
      return {
        apiBaseUrl: `${root}/crm`,
        authorizeUrl: `${root}/crm/oauth/authorize`,
        tokenUrl: `${root}/crm/oauth/token`,
        revokeUrl: `${root}/crm/oauth/revoke`,
      };
    default:
      throw new Error(`The sandbox has no app "${app}".`);
  }
}
