import { z } from 'zod';
import { readRestAnswer } from './answers.ts';
import { rfc7009Revocation } from './revocation.ts';
import type { AppAction, AppConnector, ExternalAccount } from './types.ts';

/**
 * A customer-records API shaped like a typical SaaS CRM. It accepts every kind of credential (OAuth for
 * users and for clients, API keys, static tokens, Basic, exchanged IdP tokens), so it is where Baton's
 * outbound credential modes are exercised.
 */

interface Customer {
  id: string;
  name: string;
  owner: string;
  plan: string;
}

interface Note {
  id: string;
  customerId: string;
  text: string;
  author: string;
}

const whoAmI = {
  description: 'Who the credential belongs to (GET /api/v1/me).',
  input: z.object({}),
  toRequest: () => ({ method: 'GET', path: '/api/v1/me' }),
  readAnswer: (status, body) =>
    readRestAnswer('CRM', status, body, (me) => {
      const { subject } = me as { subject: string };
      return { id: subject, login: subject } satisfies ExternalAccount;
    }),
} satisfies AppAction<z.ZodObject<{}>, ExternalAccount>;

const getCustomer = {
  description: 'Read one customer (GET /api/v1/customers/{id}).',
  input: z.object({ customerId: z.string().regex(/^cus_\w+$/, 'expected a customer id such as "cus_1001"') }),
  toRequest: ({ customerId }) => ({ method: 'GET', path: `/api/v1/customers/${encodeURIComponent(customerId)}` }),
  readAnswer: (status, body) => readRestAnswer('CRM', status, body, (customer) => customer as Customer),
} satisfies AppAction<z.ZodObject<{ customerId: z.ZodString }>, Customer>;

const addNote = {
  description: 'Add a note to a customer (POST /api/v1/notes).',
  input: z.object({ customerId: z.string().min(1), text: z.string().min(1).max(5000) }),
  toRequest: (input) => ({ method: 'POST', path: '/api/v1/notes', body: input }),
  readAnswer: (status, body) =>
    readRestAnswer(
      'CRM',
      status,
      body,
      (note) => note as Note,
      (note) => `note:${note.id}`,
    ),
} satisfies AppAction<z.ZodObject<{ customerId: z.ZodString; text: z.ZodString }>, Note>;

const status = {
  description: 'Service status; needs no credential (GET /api/v1/public/status).',
  input: z.object({}),
  toRequest: () => ({ method: 'GET', path: '/api/v1/public/status' }),
  readAnswer: (code, body) => readRestAnswer('CRM', code, body, (answer) => answer as { status: string }),
} satisfies AppAction<z.ZodObject<{}>, { status: string }>;

export const crm: AppConnector = {
  id: 'crm',
  displayName: 'CRM',
  // There is no one public CRM host: configuration (or the sandbox) names it.
  sandboxEndpoints: (root) => ({ apiBaseUrl: `${root}/crm`, authorizeUrl: `${root}/crm/oauth/authorize`, tokenUrl: `${root}/crm/oauth/token`, revokeUrl: `${root}/crm/oauth/revoke` }),
  defaultEndpoints: { apiBaseUrl: 'https://crm.example.com' },
  defaultMode: 'user_oauth',
  oauth: { defaultScopes: ['customers:read', 'notes:write'], scopeSeparator: ' ', whoAmI, revoke: rfc7009Revocation },
  actions: { me: whoAmI, 'customers.get': getCustomer, 'notes.create': addNote, 'status.get': status } as Record<string, AppAction>,
};
