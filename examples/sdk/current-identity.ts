import { currentIdentity, defineTool, z } from 'baton/sdk';

// currentIdentity(): the verified caller, read-only, the same at every depth of the run.
export const whoAmI = defineTool({ name: 'who_am_i', description: 'Who Baton says you are.', input: z.object({}) }, async () => {
  const { subject, tenant, email } = currentIdentity();
  return { subject, tenant, email };
});
