/**
 * `npm start`: the same as `baton dev` — the whole of Baton on loopback in one command (see scripts/dev.ts).
 */
await import('./dev.ts');
