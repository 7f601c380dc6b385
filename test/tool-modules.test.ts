/**
 * Issue 14: where the tools come from (`toolsFrom` in baton.yaml), loaded the same way by the gateway and the
 * worker; each bad module stops the start with the files named.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtInToolsModule, loadTools, toolModulePaths, ToolModuleError } from '../core/catalogue/tool-modules.ts';
import { configSchema } from '../core/config/file/schema.ts';
import { tools as demoTools } from '../workflows/catalog.ts';

const sdk = fileURLToPath(new URL('../workflows/sdk/index.ts', import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-tool-modules-'));
  const tool = (name: string) => `defineTool({ name: '${name}', description: 'A tool.', input: z.object({}) }, async () => ({}))`;
  const header = `import { defineTool, z } from ${JSON.stringify(sdk)};\n`;
  writeFileSync(join(dir, 'one.ts'), `${header}export const tools = [${tool('hello')}];\n`);
  writeFileSync(join(dir, 'default.ts'), `${header}export default [${tool('bye')}];\n`);
  writeFileSync(join(dir, 'clash.ts'), `${header}export const tools = [${tool('hello')}];\n`);
  writeFileSync(join(dir, 'throws.ts'), `throw new Error('no database here');\n`);
  writeFileSync(join(dir, 'nothing.ts'), `export const helpers = 1;\n`);
  // A package of tools, as a team would publish one (JavaScript under node_modules, with an exports map).
  const pkg = join(dir, 'node_modules', '@acme', 'tools');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: '@acme/tools', type: 'module', exports: { '.': './index.js' } }));
  writeFileSync(join(pkg, 'index.js'), `${header}export const tools = [${tool('from_package')}];\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const settingsWith = (toolsFrom: string | string[] | undefined) => ({ config: configSchema.parse(toolsFrom === undefined ? {} : { toolsFrom }), configFile: join(dir, 'baton.yaml'), secretsDir: dir });

test('without toolsFrom, Baton’s own demo tools', async () => {
  expect(toolModulePaths(settingsWith(undefined))).toEqual([builtInToolsModule]);
  expect((await loadTools([builtInToolsModule])).map((tool) => tool.name)).toEqual(demoTools.map((tool) => tool.name));
});

test('modules relative to baton.yaml, exporting `tools` or a default array, in order', async () => {
  const paths = toolModulePaths(settingsWith(['./one.ts', './default.ts']));
  expect(paths).toEqual([join(dir, 'one.ts'), join(dir, 'default.ts')]);
  expect((await loadTools(paths)).map((tool) => tool.name)).toEqual(['hello', 'bye']);
});

test('a package name, found from baton.yaml’s folder as that project would', async () => {
  const paths = toolModulePaths(settingsWith('@acme/tools'));
  expect(paths).toEqual([join(dir, 'node_modules', '@acme', 'tools', 'index.js')]);
  expect((await loadTools(paths)).map((tool) => tool.name)).toEqual(['from_package']);
});

test('a missing file, a package that is not installed: refused with what to do', () => {
  expect(() => toolModulePaths(settingsWith('./missing.ts'))).toThrow(
    new ToolModuleError(`toolsFrom names ./missing.ts, but there is no ${join(dir, 'missing.ts')} (relative to ${join(dir, 'baton.yaml')}).`),
  );
  expect(() => toolModulePaths(settingsWith('@acme/no-such-tools'))).toThrow(
    `toolsFrom names the package "@acme/no-such-tools", which is not installed where ${join(dir, 'baton.yaml')} is: npm install it there.`,
  );
});

test('two tools with one name: the start stops, naming both files', async () => {
  await expect(loadTools([join(dir, 'one.ts'), join(dir, 'clash.ts')])).rejects.toThrow(
    `Two tools are named "hello": one in ${join(dir, 'one.ts')}, one in ${join(dir, 'clash.ts')}. Tool names must be unique; rename one.`,
  );
});

test('a module that throws at import, or exports no tools: the start stops, naming the file', async () => {
  await expect(loadTools([join(dir, 'throws.ts')])).rejects.toThrow(`The tool module ${join(dir, 'throws.ts')} failed to load: no database here`);
  await expect(loadTools([join(dir, 'nothing.ts')])).rejects.toThrow(
    `The tool module ${join(dir, 'nothing.ts')} must export an array of tools (made with defineTool) as \`tools\` or as its default export.`,
  );
});
