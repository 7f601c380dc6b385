/**
 * Reads, validates and dereferences an app's OpenAPI 3.x document with @apidevtools/swagger-parser (no
 * hand-written $ref resolution): from a file (relative to baton.yaml) or an http(s) URL. `$ref`s to other
 * servers are refused unless the app allows them (`openapi.allowRemoteRefs`): a document should not make
 * Baton fetch whatever it names.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OpenApiError } from './errors.ts';
import type { OpenApiDocument } from './openapi-types.ts';

const FETCH_TIMEOUT_MS = 10_000;

export async function loadOpenApiDocument(source: string, { baseDir, allowRemoteRefs = false }: { baseDir: string; allowRemoteRefs?: boolean }): Promise<OpenApiDocument> {
  const remote = /^https?:\/\//i.test(source);
  const where = remote ? source : resolve(baseDir, source);
  let input: string | object = where;
  if (remote) {
    // Fetched here, so the document's own URL is allowed while the $refs inside it are governed by allowRemoteRefs.
    let text: string;
    try {
      const response = await fetch(source, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      text = await response.text();
    } catch (error) {
      throw new OpenApiError('unreadable', `Cannot fetch the OpenAPI document ${source} (${(error as Error).message}).`, { cause: error });
    }
    try {
      input = parseYaml(text) as object;
    } catch (error) {
      throw new OpenApiError('invalid', `${source} is neither JSON nor YAML: ${(error as Error).message}`, { cause: error });
    }
  }
  let document: unknown;
  try {
    const options = { resolve: { external: true, http: allowRemoteRefs ? { timeout: FETCH_TIMEOUT_MS } : false } };
    document = await (SwaggerParser.validate(input as never, options as never) as unknown as Promise<unknown>);
  } catch (error) {
    const message = (error as Error).message;
    if (/https?:\/\//.test(message) && !allowRemoteRefs && /resolve|\$ref/i.test(message)) {
      throw new OpenApiError('remote_ref', `${where} refers to another server in a $ref (${message.trim()}); Baton fetches only the document itself unless openapi.allowRemoteRefs is true.`, {
        cause: error,
      });
    }
    if (/ENOENT|no such file/i.test(message)) throw new OpenApiError('unreadable', `Cannot read the OpenAPI document ${where}: no such file.`, { cause: error });
    throw new OpenApiError('invalid', `${where} is not a valid OpenAPI document: ${message.trim()}`, { cause: error });
  }
  const version = (document as { openapi?: unknown }).openapi;
  if (typeof version !== 'string' || !version.startsWith('3.')) {
    throw new OpenApiError('invalid', `${where} is not an OpenAPI 3.x document (it says ${JSON.stringify(version ?? (document as { swagger?: unknown }).swagger)}); convert it to OpenAPI 3 first.`);
  }
  return document as OpenApiDocument;
}
