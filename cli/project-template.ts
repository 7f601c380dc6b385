/** The files `baton init` writes: a builder's project, with one example tool. */
export function projectFiles({ name, batonDependency }: { name: string; batonDependency: string }): Record<string, string> {
  return {
    'package.json': `${JSON.stringify(
      {
        name,
        private: true,
        type: 'module',
        scripts: { dev: 'baton dev', test: 'node --test "tools/**/*.test.ts"' },
        dependencies: { baton: batonDependency },
      },
      null,
      2,
    )}\n`,
    'baton.yaml': `# Your Baton project. Reference: the "Configuration file" section of Baton's README.
# Where your tools come from: modules exporting an array of tools as \`tools\` (or default).
toolsFrom: ./tools/index.ts

# An app without a connector, declared from its OpenAPI document: under \`baton dev\` the sandbox CRM's, with
# Baton's OAuth client there; each user connects it with their own CRM account.
apps:
  acme_crm:
    openapi: { document: env:BATON_CRM_OPENAPI_URL, objectRef: id }
    oauth: { clientId: env:BATON_CRM_CLIENT_ID, clientSecret: env:BATON_CRM_CLIENT_SECRET }
    credential: { mode: user_oauth }

# Who may call which tools over MCP. "*" is every signed-in user: fine on your machine, not in production.
servers:
  default:
    tools: "*"
    access: { users: ["*"] }
`,
    'tools/index.ts': `import { githubProfile } from './github-profile.ts';
import { noteCustomer } from './note-customer.ts';

/** Every tool this project offers; \`baton dev\` and \`baton worker\` load exactly these. */
export const tools = [githubProfile, noteCustomer];
`,
    'tools/note-customer.ts': `import { app, defineTool, z } from 'baton/sdk';

/** Two apps as the caller: the CRM declared from its OpenAPI document (baton.yaml) and GitHub, built in. */
export const noteCustomer = defineTool(
  {
    name: 'note_customer',
    title: 'Note a customer',
    description: 'Adds a note to a CRM customer, signed with your GitHub login, as you in both.',
    input: z.object({ customerId: z.string(), text: z.string().min(1) }),
    apps: ['acme_crm', 'github'],
  },
  async ({ customerId, text }) => {
    const customer = await app('acme_crm').call<{ name: string }>('getCustomer', { customerId });
    const { login } = await app('github').call<{ login: string }>('users.getAuthenticated', {});
    const note = await app('acme_crm').call<{ id: string; author: string }>('addNote', { body: { customerId, text: \`\${text} (\${login})\` } });
    return { customer: customer.name, noteId: note.id, author: note.author };
  },
);
`,
    'tools/github-profile.ts': `import { app, defineTool, z } from 'baton/sdk';

/** Reads the caller's own GitHub profile: the smallest tool that acts as the person who asked. */
export const githubProfile = defineTool(
  {
    name: 'github_profile',
    title: 'My GitHub profile',
    description: 'Your GitHub login, read with your own GitHub account.',
    input: z.object({}),
    apps: ['github'],
    annotations: { readOnlyHint: true, openWorldHint: true },
  },
  async () => {
    const me = await app('github').call<{ login: string }>('users.getAuthenticated', {});
    return { login: me.login };
  },
);
`,
    'tools/github-profile.test.ts': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testTool } from 'baton/testing';

// Runs the tool in a real Temporal test environment, acting as alice, with GitHub's answer faked.
test('github_profile answers with the caller’s own login', async () => {
  const { result, calls } = await testTool({
    tools: new URL('./index.ts', import.meta.url),
    tool: 'github_profile',
    input: {},
    as: { subject: 'alice' },
    apps: { github: { 'users.getAuthenticated': () => ({ login: 'alice' }) } },
  });
  assert.deepEqual(result, { login: 'alice' });
  assert.deepEqual(
    calls.map((call) => [call.target, call.action, call.as]),
    [['github', 'users.getAuthenticated', 'alice']],
  );
});
`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2024',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          verbatimModuleSyntax: true,
          skipLibCheck: true,
        },
        include: ['tools'],
      },
      null,
      2,
    )}\n`,
    '.gitignore': 'node_modules/\n.baton/\n',
  };
}
