/**
 * `BATON_SHUTDOWN_GRACE_SECONDS`: on SIGTERM/SIGINT, how long a gateway lets the requests in flight
 * finish, and a worker the activities in hand (default 25 s, inside Kubernetes' default 30 s grace).
 */
export function shutdownGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BATON_SHUTDOWN_GRACE_SECONDS;
  if (raw === undefined || raw === '') return 25_000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
    throw new Error(`Environment variable BATON_SHUTDOWN_GRACE_SECONDS is invalid: give seconds between 0 and 3600 (got "${raw}").`);
  }
  return seconds * 1000;
}
