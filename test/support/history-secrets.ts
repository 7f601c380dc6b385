import type { Stack } from './stack.ts';

/**
 * Every workflow history on the stack's task queue, as one text: all strings and all payload bytes
 * decoded, so a secret anywhere in inputs, results, headers, signals or failures shows up.
 */
export async function dumpHistories(stack: Stack): Promise<{ workflows: number; text: string }> {
  const parts: string[] = [];
  let workflows = 0;
  for await (const execution of stack.client.workflow.list({ query: `TaskQueue = "${stack.settings.temporal.taskQueue}"` })) {
    workflows += 1;
    const history = await stack.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    collectText(history, parts);
  }
  return { workflows, text: parts.join('\n') };
}

function collectText(value: unknown, into: string[]): void {
  if (typeof value === 'string') into.push(value);
  else if (value instanceof Uint8Array) into.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) value.forEach((item) => collectText(item, into));
  else if (value && typeof value === 'object') Object.values(value).forEach((item) => collectText(item, into));
}

/** Fails if any secret the sandbox ever issued (tokens, codes, client secrets, API keys) is in a history. */
export async function expectNoSecretsInHistories(stack: Stack): Promise<void> {
  const { secrets } = await stack.sandboxGet<{ secrets: string[] }>('/_sandbox/issued-secrets');
  const { workflows, text } = await dumpHistories(stack);
  expect(workflows).toBeGreaterThan(0);
  expect(text).toContain('"stepKey"'); // payloads really were decoded
  expect(secrets.length).toBeGreaterThan(3);
  const leaked = secrets.filter((secret) => text.includes(secret));
  expect(leaked).toEqual([]);
}
