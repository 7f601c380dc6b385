/**
 * The sandbox help desk's OpenAPI 3.1 document (served at /helpdesk/openapi.json): the only description of
 * the help desk Baton has. There is no connector for it in Baton's code; `npm start` declares it from this
 * document (baton.yaml's `helpdesk`), as a builder declares an internal REST API. Its security schemes are
 * the help desk's own: OAuth 2 authorization code (with PKCE) and an API key in the X-Helpdesk-Key header.
 */
export function helpdeskOpenApiDocument(helpdeskUrl: string): Record<string, unknown> {
  const error = { description: 'What went wrong', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const ticket = { description: 'The ticket', content: { 'application/json': { schema: { $ref: '#/components/schemas/Ticket' } } } };
  const ticketId = { name: 'ticketId', in: 'path', required: true, description: 'A ticket id such as HD-1', schema: { type: 'string', pattern: '^HD-[0-9]+$' } };
  return {
    openapi: '3.1.0',
    info: { title: 'Help desk', version: '1.0.0', description: 'Support tickets of the sandbox help desk.' },
    servers: [{ url: `${helpdeskUrl}/api` }],
    security: [{ oauth: ['tickets:read', 'tickets:write'] }, { apiKey: [] }],
    paths: {
      '/v1/me': {
        get: { operationId: 'whoAmI', summary: 'Who the credential belongs to', responses: { '200': { description: 'The caller' }, '401': error } },
      },
      '/v1/tickets': {
        get: {
          operationId: 'listTickets',
          summary: 'Tickets, newest first',
          parameters: [
            { name: 'status', in: 'query', description: 'Only tickets with this status', schema: { type: 'string', enum: ['open', 'closed'] } },
            { name: 'limit', in: 'query', description: 'At most this many', schema: { type: 'integer', minimum: 1, maximum: 100 } },
          ],
          responses: { '200': { description: 'Tickets' }, '401': error },
        },
        post: {
          operationId: 'createTicket',
          summary: 'Open a ticket, reported by the credential’s owner',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewTicket' } } } },
          responses: { '201': ticket, '400': error, '401': error, '403': error },
        },
      },
      '/v1/tickets/{ticketId}': {
        parameters: [ticketId],
        get: { operationId: 'getTicket', summary: 'Read one ticket', responses: { '200': ticket, '404': error } },
      },
      '/v1/tickets/{ticketId}/close': {
        parameters: [ticketId],
        post: {
          operationId: 'closeTicket',
          summary: 'Close a ticket with a resolution',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { type: 'object', required: ['resolution'], additionalProperties: false, properties: { resolution: { type: 'string', minLength: 1, maxLength: 2000 } } } },
            },
          },
          responses: { '200': ticket, '400': error, '403': error, '404': error },
        },
      },
    },
    components: {
      schemas: {
        NewTicket: {
          type: 'object',
          required: ['title'],
          additionalProperties: false,
          properties: {
            title: { type: 'string', minLength: 1, maxLength: 200 },
            description: { type: 'string', maxLength: 5000 },
            priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'], default: 'normal' },
          },
        },
        Ticket: {
          type: 'object',
          required: ['id', 'title', 'priority', 'status', 'reporter'],
          properties: {
            id: { type: 'string' },
            title: { type: 'string' },
            description: { type: 'string' },
            priority: { type: 'string' },
            status: { type: 'string', enum: ['open', 'closed'] },
            reporter: { type: 'string' },
            resolution: { type: 'string' },
            closedBy: { type: 'string' },
          },
        },
        Error: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } },
      },
      securitySchemes: {
        oauth: {
          type: 'oauth2',
          flows: {
            authorizationCode: {
              authorizationUrl: `${helpdeskUrl}/oauth/authorize`,
              tokenUrl: `${helpdeskUrl}/oauth/token`,
              scopes: { 'tickets:read': 'Read tickets', 'tickets:write': 'Open and close tickets' },
            },
          },
        },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Helpdesk-Key' },
      },
    },
  };
}
