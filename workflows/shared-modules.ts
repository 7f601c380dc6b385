/**
 * Loaded once per worker, before any workflow exists, and shared (frozen) by every workflow the worker
 * runs (the SDK's `preloadModules`, see worker/bundle.ts). Without it the worker evaluates zod's 460 kB
 * again for each new workflow, which was the largest part of a run's first workflow task.
 *
 * zod is safe to share: it keeps no per-run state, and its two global objects (the schema registry, the
 * configuration) are written only here, before they are frozen. Its module-level scratch state lives only
 * within one synchronous parse, which no two workflows interleave. Schemas are built per workflow, from the
 * tools' own modules, which are not shared.
 */
import { z } from 'zod';

// The same re-export the SDK's entry (workflows/sdk/index.ts) makes. zod declares itself free of side effects,
// so webpack binds `import { z }` above straight to the two zod modules it uses, leaving out the namespace
// module and what it gathers (the locales, JSON Schema conversion): without this line those were still
// evaluated for every new workflow, about 3 ms of a run's first workflow task.
export { z as sharedZod } from 'zod';

// A shared zod is frozen, so it cannot record later whether `new Function` works (its JIT probe writes a
// cached answer). Each workflow parses its input once, where compiling a fast parser would cost more than it saves.
z.config({ jitless: true });
// zod sets its defaults (English messages, the parse memoizer) in its global configuration when the first
// schema is built; do that now, while the configuration can still be written.
z.object({ warm: z.string() }).safeParse({ warm: '' });
