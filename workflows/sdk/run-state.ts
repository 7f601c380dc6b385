/**
 * State of the current workflow execution. Temporal gives each workflow execution its own copy of
 * module state, so these variables never leak between runs.
 */
import type { Payload } from '@temporalio/common';
import type { VerifiedIdentity } from '../../core/identity/context.ts';
import type { CallableDefinition } from './define.ts';
import type { RunOptions } from '../protocol.ts';

interface RunState {
  /** The signed identity exactly as it arrived; forwarded untouched to children and activities. */
  identityHeader?: Payload;
  /** The trace context the run was started with, for the finished record (core/telemetry/trace-header.ts). */
  traceHeader?: Payload;
  /** Workflow ids from the root run down to this one. */
  runPath: string[];
  verified?: VerifiedIdentity;
  definition?: CallableDefinition;
  options: RunOptions;
  sequence: number;
}

export const runState: RunState = { runPath: [], options: {}, sequence: 0 };

/** A per-workflow counter; deterministic, so replays produce the same ids and step keys. */
export function nextSequence(): number {
  runState.sequence += 1;
  return runState.sequence;
}
