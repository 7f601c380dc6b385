/** `baton <command>` runs only its own commands: names inherited from Object.prototype are unknown like any other. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const baton = fileURLToPath(new URL('../bin/baton.js', import.meta.url));

function run(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [baton, ...args], { env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1' } }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'tokens'])('baton %s is an unknown command: exit 2, named, with the list', async (command) => {
  const { status, stdout, stderr } = await run(command);
  expect(status).toBe(2);
  expect(stdout).toBe('');
  expect(stderr).toContain(`baton: unknown command "${command}".`);
  expect(stderr).toContain('usage: baton <command>');
  for (const known of ['gateway', 'worker', 'dev', 'token', 'audit', 'keys']) expect(stderr).toMatch(new RegExp(`^  ${known} `, 'm'));
});

test('baton without a command says so and lists them (exit 2); baton help lists them on stdout (exit 0)', async () => {
  const bare = await run();
  expect(bare.status).toBe(2);
  expect(bare.stderr).toContain('baton: no command given.');
  expect(bare.stderr).toContain('usage: baton <command>');

  const help = await run('help');
  expect(help).toMatchObject({ status: 0, stderr: '' });
  expect(help.stdout).toMatch(/^usage: baton <command>\n {2}gateway /);
});
