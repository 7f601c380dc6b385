import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

/** Where a secret lives; the configuration file only ever names it. */
export type SecretRef = { kind: 'env'; name: string } | { kind: 'file'; path: string } | { kind: 'vault'; id: string };

/**
 * A secret reference in the configuration: `env:NAME`, `file:PATH` or `vault:ID`. Anything else — in
 * particular a literal secret pasted into the file — is refused with a message saying how to write it.
 */
export const secretRef = z.string().transform((value, ctx): SecretRef => {
  const match = /^(env|file|vault):(.+)$/.exec(value);
  if (!match) {
    ctx.addIssue({ code: 'custom', message: 'must be a secret reference (env:NAME, file:PATH or vault:ID), never the secret itself' });
    return z.NEVER;
  }
  const [, kind, rest] = match as unknown as [string, 'env' | 'file' | 'vault', string];
  if (kind === 'env') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(rest)) {
      ctx.addIssue({ code: 'custom', message: `"${rest}" is not an environment variable name` });
      return z.NEVER;
    }
    return { kind, name: rest };
  }
  return kind === 'file' ? { kind, path: rest } : { kind, id: rest };
});

export class SecretUnavailableError extends Error {
  override name = 'SecretUnavailableError';
}

export const describeSecretRef = (ref: SecretRef) => (ref.kind === 'env' ? `env:${ref.name}` : ref.kind === 'file' ? `file:${ref.path}` : `vault:${ref.id}`);

/**
 * The value behind an `env:` or `file:` reference (file paths relative to the configuration file's
 * folder). `vault:` references are resolved where the vault is open, never here.
 */
export function readSecret(ref: SecretRef, options: { env: NodeJS.ProcessEnv; baseDir: string }): string {
  if (ref.kind === 'env') {
    const value = options.env[ref.name];
    if (!value) throw new SecretUnavailableError(`environment variable ${ref.name} is not set`);
    return value;
  }
  if (ref.kind === 'file') {
    try {
      return readFileSync(resolve(options.baseDir, ref.path), 'utf8').trim();
    } catch (error) {
      throw new SecretUnavailableError(`file ${ref.path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  throw new SecretUnavailableError(`vault:${ref.id} is resolved from the vault at run time`);
}
