import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, type BatonConfig } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadedConfig {
  file: string;
  baseDir: string;
  config: BatonConfig;
}

/**
 * Reads and validates `baton.yaml`. Every problem is reported at once, each as
 * `file:line:column  path.to.field: what is wrong`, and nothing starts on an invalid file.
 */
export function loadConfigFile(file: string): LoadedConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read the configuration file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Set BATON_CONFIG to its path.`);
  }
  return { file: path, baseDir: dirname(path), config: parseConfig(text, path) };
}

export function parseConfig(text: string, file: string): BatonConfig {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (document.errors.length > 0) {
    throw new ConfigError(`${file} is not valid YAML:\n${document.errors.map((e) => `  ${at(e.pos[0])}  ${e.message.split('\n')[0]}`).join('\n')}`);
  }
  const parsed = configSchema.safeParse(document.toJS() ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      `${file} has ${parsed.error.issues.length === 1 ? 'a problem' : `${parsed.error.issues.length} problems`}:\n${parsed.error.issues.map((issue) => `  ${at(offsetOf(document, issue))}  ${describe(issue)}`).join('\n')}`,
    );
  }
  return parsed.data;
}

/** A misspelt key is reported at the key itself, not at the object holding it. */
const pathOf = (issue: z.core.$ZodIssue): PropertyKey[] => (issue.code === 'unrecognized_keys' && issue.keys.length === 1 ? [...issue.path, issue.keys[0]!] : issue.path);

const describe = (issue: z.core.$ZodIssue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`;

/** Where in the text an issue's path points: the deepest node that exists along it. */
function offsetOf(document: Document, issue: z.core.$ZodIssue): number | undefined {
  let offset = document.contents?.range?.[0];
  let node: unknown = document.contents;
  for (const key of pathOf(issue)) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      offset = (node as { range?: [number] } | undefined)?.range?.[0] ?? offset;
    } else break;
  }
  return offset;
}
