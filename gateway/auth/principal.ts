/** The caller's identity type lives in core (the API-token store builds one); the gateway's modules import it from here. */
export type { Principal } from '../../core/identity/principal.ts';
