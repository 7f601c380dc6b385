import { app, child, defineCallable, defineTool, z } from 'baton/sdk';

// defineCallable: runs only as a child of a tool, as its own workflow; child() starts it as the same caller.
const postToSlack = defineCallable({ name: 'post_to_slack', description: 'Post a line to #eng as the caller.', input: z.object({ text: z.string() }), apps: ['slack'] }, async ({ text }) =>
  app('slack').call<{ ts: string }>('chat.postMessage', { channel: '#eng', text }),
);

export const announce = defineTool({ name: 'announce', description: 'Announce something in #eng.', input: z.object({ text: z.string() }), uses: [postToSlack] }, async ({ text }) => ({
  posted: (await child(postToSlack, { text })).ts,
}));
