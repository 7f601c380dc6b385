/**
 * The sandbox CRM described only by an OpenAPI 3.1 document (served at /crm/openapi.json), as a SaaS vendor
 * publishes one: Baton declares an app from it without a connector (apps.<id>.openapi in baton.yaml). Its
 * security schemes are the CRM's own: OAuth 2 authorization code (with PKCE, the CRM's authorization server)
 * and an API key in the X-Api-Key header.
 */
export function crmOpenApiDocument(crmUrl: string): Record<string, unknown> {
  const customer = {
    type: 'object',
    required: ['id', 'name', 'owner', 'plan'],
    properties: { id: { type: 'string' }, name: { type: 'string' }, owner: { type: 'string' }, plan: { type: 'string' } },
  };
  const error = { description: 'What went wrong', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  return {
    openapi: '3.1.0',
    info: { title: 'Acme CRM', version: '1.0.0', description: 'Customers and notes of the sandbox CRM.' },
    servers: [{ url: `${crmUrl}/api` }],
    security: [{ oauth: ['customers:read', 'notes:write'] }, { apiKey: [] }],
    paths: {
      '/v1/me': {
        get: { operationId: 'getMe', summary: 'Who the credential belongs to', responses: { '200': { description: 'The caller' }, '401': error } },
      },
      '/v1/customers': {
        get: { operationId: 'listCustomers', summary: 'Every customer', responses: { '200': { description: 'Customers' } } },
      },
      '/v1/customers/{customerId}': {
        parameters: [{ name: 'customerId', in: 'path', required: true, description: 'A customer id such as cus_1001', schema: { type: 'string', pattern: '^cus_\\w+$' } }],
        get: { operationId: 'getCustomer', summary: 'Read one customer', responses: { '200': { description: 'The customer', content: { 'application/json': { schema: customer } } }, '404': error } },
      },
      '/v1/notes': {
        post: {
          operationId: 'addNote',
          summary: 'Add a note to a customer',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewNote' } } } },
          responses: { '201': { description: 'The note' }, '400': error, '404': error },
        },
      },
    },
    components: {
      schemas: {
        NewNote: {
          type: 'object',
          required: ['customerId', 'text'],
          additionalProperties: false,
          properties: { customerId: { type: 'string' }, text: { type: 'string', minLength: 1, maxLength: 5000 } },
        },
        Error: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } },
      },
      securitySchemes: {
        oauth: {
          type: 'oauth2',
          flows: {
            authorizationCode: { authorizationUrl: `${crmUrl}/oauth/authorize`, tokenUrl: `${crmUrl}/oauth/token`, scopes: { 'customers:read': 'Read customers', 'notes:write': 'Write notes' } },
          },
        },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
  };
}
