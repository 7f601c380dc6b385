import { fileURLToPath } from 'node:url';

/**
 * A file of Baton itself, relative to the calling module, as this copy of Baton runs: the `.ts` source in a
 * checkout (Node strips the types), the compiled `.js` in an installed package (`dist/`, built by
 * `npm run build`; Node refuses to strip types under `node_modules`).
 *
 * @example
 * const entry = batonFile('../workflows/index.ts', import.meta.url);
 */
export function batonFile(relative: string, from: string): string {
  const path = fileURLToPath(new URL(relative, from));
  return from.endsWith('.js') ? path.replace(/\.ts$/, '.js') : path;
}

/** The folder of Baton's package.json: this checkout, or the installed package (whose build is in dist/). */
export const batonRoot = fileURLToPath(new URL(import.meta.url.endsWith('.js') ? '../..' : '..', import.meta.url)).replace(/[\\/]$/, '');
