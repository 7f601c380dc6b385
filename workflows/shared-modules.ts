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

// A shared zod is frozen, so it cannot record later whether `new Function` works (its JIT probe writes a
// cached answer). Each workflow parses its input once, where compiling a fast parser would cost more than it saves.
z.config({ jitless: true });
// zod sets its defaults (English messages, the parse memoizer) in its global configuration when the first
// schema is built; do that now, while the configuration can still be written.
z.object({ warm: z.string() }).safeParse({ warm: '' });
