#!/usr/bin/env node
// `baton <command>`: production entry points. Node 24 runs the TypeScript sources directly.
const commands = { worker: '../worker/main.ts' };
const [command] = process.argv.slice(2);
if (!(command in commands)) {
  console.error(`usage: baton <${Object.keys(commands).join('|')}>`);
  process.exit(2);
}
await import(new URL(commands[command], import.meta.url).href);
