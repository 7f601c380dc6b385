import { testTool } from 'baton/testing';

// testTool: one tool in a real Temporal test environment, as a given user, with the apps' answers faked.
const { result, calls } = await testTool({
  tools: new URL('./tools/index.ts', import.meta.url),
  tool: 'read_pull_request',
  input: { repo: 'acme/widgets', number: 1 },
  as: { subject: 'alice' },
  apps: { github: { 'pulls.get': () => ({ title: 'Add retry', html_url: 'https://github.com/acme/widgets/pull/1' }) } },
});
console.log(result, calls);
