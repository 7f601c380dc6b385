import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses `baton <command> …` (everything after the command name), or prints what went wrong with the
 * usage line and exits 2 — the shared front door of the operator commands.
 */
export function parseCommandLine<O extends Options>(command: string, usage: string, options: O) {
  try {
    return parseArgs({ args: process.argv.slice(3), allowPositionals: true, strict: true, options });
  } catch (error) {
    console.error(`baton ${command}: ${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
}
