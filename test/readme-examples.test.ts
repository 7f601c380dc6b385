/**
 * The README's SDK examples are the files in examples/ (type-checked by `npm test`'s tsc step against the real
 * `baton`, `baton/sdk` and `baton/testing` exports): each block the README marks with its file must be that
 * file, character for character, so an example that no longer compiles cannot survive in the README either.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const marked = [...readme.matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```\n/g)].map(([, file, block]) => ({ file: file!, block: block! }));

test('the README shows every SDK example file, and each block names one', () => {
  expect(marked.map(({ file }) => file)).toEqual(
    expect.arrayContaining([
      'examples/sdk/define-tool.ts',
      'examples/sdk/define-callable.ts',
      'examples/sdk/mcp.ts',
      'examples/sdk/current-identity.ts',
      'examples/sdk/test-tool.ts',
      'examples/runtime/start-worker.ts',
      'examples/apps/weather.ts',
    ]),
  );
});

test.each(marked.map(({ file }) => file))('the README’s copy of %s is the compiled file', (file) => {
  expect(marked.find((example) => example.file === file)!.block).toBe(readFileSync(join(root, file), 'utf8'));
});
