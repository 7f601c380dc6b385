import type { Configuration } from 'oidc-provider';
import { idpErrorPage } from './pages.ts';

const day = 24 * 60 * 60;

/**
 * What the sandbox's two oidc-provider authorization servers (the identity provider and the notes
 * server's) configure alike: artefact lifetimes, client ID metadata documents (resolved by their storage
 * adapters, see client-metadata-documents.ts) and the error page.
 */
export function sandboxProviderDefaults(accessTokenTtl: number | (() => number)): Pick<Configuration, 'ttl' | 'discovery' | 'renderError'> {
  return {
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      RefreshToken: 14 * day,
      Interaction: 60 * 60,
      Session: 14 * day,
      Grant: 14 * day,
    },
    discovery: { client_id_metadata_document_supported: true },
    renderError: (koa, out) => {
      koa.type = 'html';
      koa.body = idpErrorPage({ title: 'Sign-in failed', message: [out.error, out.error_description].filter(Boolean).join(': ') });
    },
  };
}
