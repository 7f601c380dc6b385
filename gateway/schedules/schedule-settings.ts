import { z } from 'zod';

export interface ScheduleSettings {
  /** The shortest interval a schedule may have. */
  minIntervalSeconds: number;
  /** How many schedules one user may keep. */
  maxPerUser: number;
  /**
   * How long a scheduled run waits for its owner to connect a missing app before it fails. Nobody is
   * waiting on a scheduled run, so this is longer than a call's default (and while it waits, the
   * schedule skips its next runs rather than piling up more paused ones).
   */
  consentTimeoutMs: number;
  /** How long `POST /api/tools/{name}/runs` waits when its body names no `wait`. */
  apiDefaultWaitSeconds: number;
}

const positiveInt = z.coerce.number().int().positive();
const environment = z.object({
  BATON_SCHEDULE_MIN_INTERVAL_SECONDS: positiveInt.default(60),
  BATON_SCHEDULE_MAX_PER_USER: positiveInt.default(50),
  BATON_SCHEDULE_CONSENT_TIMEOUT_SECONDS: positiveInt.default(24 * 60 * 60),
  BATON_API_WAIT_SECONDS: z.coerce.number().int().min(0).default(10),
});

/** The trigger settings (HTTP API, schedules), from the environment; a bad value names its variable. */
export function loadScheduleSettings(env: NodeJS.ProcessEnv): ScheduleSettings {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Environment variable ${String(issue?.path[0])} is invalid: ${issue?.message}.`);
  }
  const vars = parsed.data;
  return {
    minIntervalSeconds: vars.BATON_SCHEDULE_MIN_INTERVAL_SECONDS,
    maxPerUser: vars.BATON_SCHEDULE_MAX_PER_USER,
    consentTimeoutMs: vars.BATON_SCHEDULE_CONSENT_TIMEOUT_SECONDS * 1000,
    apiDefaultWaitSeconds: vars.BATON_API_WAIT_SECONDS,
  };
}
