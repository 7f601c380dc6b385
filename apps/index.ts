// Connector types. Baton's own connectors are an app module (built-in.ts), loaded like a builder's (appsFrom).
export type { AppConnector, AppAction, AppAnswer, AppEndpoints, AppRequest, CredentialMode, ExternalAccount } from './types.ts';
