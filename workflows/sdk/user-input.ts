/**
 * Questions an upstream MCP server asks the user in the middle of a call (2026-07-28 `input_required` form
 * elicitations): the asking workflow tells the root run (whose status the gateway reads), waits durably for the
 * answers the gateway signals, and hands them back for the upstream call to be retried with.
 */
import { ApplicationFailure, CancellationScope, condition, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import { FailureType, type McpInputRequired, type UpstreamAnswer } from '../../activities/contract.ts';
import { inputAnswerSignal, type InputAnswer } from '../protocol.ts';
import { announceInput, announceInputSettled } from './root-status.ts';
import { nextSequence, runState } from './run-state.ts';

const DEFAULT_ANSWER_TIMEOUT_MS = 15 * 60 * 1000;

const answers = new Map<string, InputAnswer>();

export function acceptInputAnswers(): void {
  setHandler(inputAnswerSignal, (answer) => void answers.set(answer.inputId, answer));
}

/**
 * Asks the user the upstream's questions and waits for the answers (as long as a consent may take:
 * `consentTimeoutMs`). Only answers to the keys the upstream asked are passed on, with its state echoed.
 */
export async function askUser(server: string, tool: string, asked: McpInputRequired['inputRequired']): Promise<UpstreamAnswer> {
  const waitingWorkflowId = workflowInfo().workflowId;
  const inputId = `${waitingWorkflowId}/input-${nextSequence()}`;
  await announceInput({ inputId, server, tool, questions: asked.questions, waitingWorkflowId });
  const timeoutMs = runState.options.consentTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
  let answered: boolean;
  try {
    answered = await condition(() => answers.has(inputId), timeoutMs);
  } catch (error) {
    if (isCancellation(error)) await CancellationScope.nonCancellable(() => announceInputSettled(inputId));
    throw error;
  }
  await announceInputSettled(inputId);
  const questions = Object.values(asked.questions)
    .map((question) => `"${question.message}"`)
    .join(', ');
  if (!answered) {
    throw ApplicationFailure.nonRetryable(
      `${server} ${tool} asked you ${questions} and no answer came within ${Math.round(timeoutMs / 1000)} s; call the tool again to be asked again.`,
      FailureType.inputNotAnswered,
    );
  }
  const answer = answers.get(inputId)!;
  if (answer.unanswerable !== undefined) throw ApplicationFailure.nonRetryable(answer.unanswerable, FailureType.inputNotAnswered);
  const responses = Object.fromEntries(Object.keys(asked.questions).flatMap((key) => (answer.responses && key in answer.responses ? [[key, answer.responses[key]]] : [])));
  return { inputResponses: responses, ...(asked.requestState !== undefined ? { requestState: asked.requestState } : {}) };
}
