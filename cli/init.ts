/**
 * `baton init <folder>`: a project for your own tools, outside Baton — package.json depending on Baton,
 * baton.yaml naming the tools (`toolsFrom`), `tools/` with one example tool. Then, in it:
 * `npm install && npx baton dev`, and saving a tool file reloads the worker.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { batonRoot } from '../core/runtime-files.ts';
import { parseCommandLine } from './command-line.ts';
import { projectFiles } from './project-template.ts';

const usage = 'usage: baton init <folder>   (a new or empty folder; its name becomes the package name)';
const { positionals } = parseCommandLine('init', usage, {});
const [folder] = positionals;
if (!folder || positionals.length > 1) {
  console.error(`baton init: name one folder.\n${usage}`);
  process.exit(2);
}
const target = resolve(folder);
if (existsSync(target) && readdirSync(target).length > 0) {
  console.error(`baton init: ${target} is not empty; pick a new folder (nothing was written).`);
  process.exit(1);
}

const batonPackage = JSON.parse(readFileSync(join(batonRoot, 'package.json'), 'utf8')) as { name: string; version: string };
// From a checkout, the project depends on that checkout; from an installed Baton, on its version.
const dependency = batonRoot.split(/[\\/]/).includes('node_modules') ? `^${batonPackage.version}` : `file:${batonRoot}`;

for (const [path, content] of Object.entries(projectFiles({ name: basename(target), batonDependency: dependency }))) {
  mkdirSync(dirname(join(target, path)), { recursive: true });
  writeFileSync(join(target, path), content);
  console.log(`baton init: wrote ${join(relative(process.cwd(), target) || '.', path)}`);
}
console.log(`baton init: done. Next:
  cd ${relative(process.cwd(), target) || '.'}
  npm install
  npx baton dev        # Temporal, the sandbox apps, a worker with your tools, the gateway; saving a tool reloads`);
