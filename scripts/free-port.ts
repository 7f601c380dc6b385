import { createServer } from 'node:net';

/** Fails with a message that says what to do when a port `npm start` needs is taken. */
export async function ensurePortFree(port: number, what: string, variable: string): Promise<void> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  if (!free) throw new Error(`Port ${port} (${what}) is already in use: is another \`npm start\` running? Stop it, or pick another port with ${variable}=...`);
}

/** A free loopback port, so a server's URL is known before it starts (the gateway's resource URI, a metrics port). */
export async function freePort(): Promise<number> {
  const { port, release } = await reservePort();
  await release();
  return port;
}

/**
 * A free loopback port held until `release()`: while held, no other process can be handed it (a port picked
 * and let go at once can be taken by anything binding port 0 meanwhile, which is how a suite that starts its
 * gateway seconds later found "its" port in use).
 */
export async function reservePort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
