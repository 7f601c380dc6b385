/** The parts of an OpenAPI 3.x document (after $ref resolution) a connector is built from. */
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  description?: string;
  schema?: Record<string, unknown>;
}

export interface OpenApiOperation {
  operationId?: string;
  summary?: string;
  description?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Record<string, unknown> }> };
}

export type OpenApiPathItem = Partial<Record<'get' | 'post' | 'put' | 'patch' | 'delete', OpenApiOperation>> & { parameters?: OpenApiParameter[] };

export interface OpenApiSecurityScheme {
  type: 'apiKey' | 'http' | 'oauth2' | 'openIdConnect' | 'mutualTLS';
  scheme?: string;
  name?: string;
  in?: 'header' | 'query' | 'cookie';
  flows?: { authorizationCode?: { authorizationUrl: string; tokenUrl: string; refreshUrl?: string; scopes?: Record<string, string> } };
}

export interface OpenApiDocument {
  openapi: string;
  info?: { title?: string };
  servers?: { url: string }[];
  paths?: Record<string, OpenApiPathItem>;
  components?: { securitySchemes?: Record<string, OpenApiSecurityScheme> };
}
