import { ApplicationFailure } from '@temporalio/activity';
import type { BatonSettings } from '../core/config/settings.ts';
import { describeIssues } from '../core/schema-issues.ts';
import type { StepStore } from '../core/steps/step-store.ts';
import { dotSegmentIn } from '../core/http/app-request.ts';
import { sendFromActivity } from './app-http.ts';
import { auditContextOf } from './audit-context.ts';
import { currentCaller } from './caller-context.ts';
import { configuredReason, describeCredential, isConnectionRequired, messageOf, startAudit } from './app-call-audit.ts';
import { extraHeaders } from './extra-headers.ts';
import { connectionRequired, resolveCredential, type CredentialSources, type PresentedCredential } from './credentials.ts';
import { FailureType, type CallAppInput } from './contract.ts';

export interface CallAppDependencies extends CredentialSources {
  settings: BatonSettings;
  steps: StepStore;
}

/**
 * The one way workflow code reaches an app: check the action and its input, pick the credential the
 * configuration names for the verified caller, call the app, and write one audit record whatever
 * happens. Secrets stay inside this function; only the app's answer goes back to the workflow.
 */
export function createCallApp(deps: CallAppDependencies) {
  return async function callApp({ app: appId, action: actionName, input, stepKey }: CallAppInput): Promise<unknown> {
    const caller = currentCaller();
    const app = deps.settings.apps.get(appId);
    if (!app || app.connector.upstream) {
      const known = [...deps.settings.apps.values()].filter((known) => !known.connector.upstream).map((known) => known.id);
      const hint = app ? ` "${appId}" is an MCP server: call it with mcp('${appId}').call(tool, arguments).` : '';
      throw ApplicationFailure.nonRetryable(`Unknown app "${appId}". Known apps: ${known.join(', ')}.${hint}`, FailureType.unknownApp);
    }
    const { connector } = app;
    const action = connector.actions[actionName];
    if (!action) {
      throw ApplicationFailure.nonRetryable(`${connector.displayName} has no action "${actionName}". Known actions: ${Object.keys(connector.actions).join(', ')}.`, FailureType.unknownAction);
    }
    const parsed = action.input.safeParse(input);
    if (!parsed.success) {
      const issues = describeIssues(parsed.error).join('; ');
      throw ApplicationFailure.nonRetryable(`Invalid input for ${connector.displayName} ${actionName}: ${issues}`, FailureType.invalidActionInput);
    }
    const request = action.toRequest(parsed.data);
    const dotSegment = dotSegmentIn(request.path);
    if (dotSegment !== undefined) {
      // encodeURIComponent leaves "." and ".." alone, so an owner of ".." would walk to another path on the app's host.
      throw ApplicationFailure.nonRetryable(
        `Invalid input for ${connector.displayName} ${actionName}: a path segment of the request would be "${dotSegment}", which walks to another path on ${connector.displayName}; use the real name.`,
        FailureType.invalidActionInput,
      );
    }

    const toolOverride = deps.toolCredential(caller.binding.tool, appId);
    const configured = toolOverride ?? app.credential;
    const mode = configured?.mode ?? app.mode;
    const reason = configuredReason(caller.binding.tool, appId, mode, toolOverride !== undefined, configured?.mode === 'service_account' ? configured.reason : undefined);
    const audit = startAudit(deps.audit, caller, { app: appId, action: actionName, stepKey, mode, reason });
    const done = await deps.steps.find(stepKey);
    if (done) {
      await audit.finish({ outcome: 'replayed' });
      return done.result;
    }

    let credential: PresentedCredential;
    let headers: Record<string, string>;
    try {
      credential = await resolveCredential(caller, connector, app, deps);
      const configured = await extraHeaders(caller, connector, app, deps);
      // A configured credential wins over a configured extra header of the same name; headers the client sent
      // never win over configured ones (bob must not send X-Acting-User: alice along with the organisation's key).
      headers = credential.suppliedByClient ? { ...credential.headers, ...configured } : { ...configured, ...credential.headers };
    } catch (error) {
      await audit.finish({ outcome: isConnectionRequired(error) ? 'connection_required' : 'failed', error: messageOf(error) });
      throw error;
    }
    audit.credential(credential);

    let answer;
    try {
      // A credential that travels in the query (an API key parameter) joins the action's own parameters.
      const withCredential = credential.query ? { ...request, query: { ...request.query, ...credential.query } } : request;
      const response = await sendFromActivity(app.endpoints.apiBaseUrl, withCredential, headers, stepKey);
      answer = { status: response.status, read: action.readAnswer(response.status, response.body) };
    } catch (error) {
      await audit.finish({ outcome: 'failed', error: `could not reach ${connector.displayName}: ${messageOf(error)}` });
      throw error; // network trouble: Temporal retries the step
    }

    const { status, read } = answer;
    if (read.kind === 'ok') {
      await deps.steps.save(stepKey, read.result);
      await audit.finish({ outcome: 'ok', upstreamStatus: status, objectRef: read.objectRef ?? null });
      return read.result;
    }
    await audit.finish({ outcome: read.kind === 'credential_rejected' ? 'credential_rejected' : 'failed', upstreamStatus: status, error: read.message });
    if (read.kind === 'credential_rejected' && credential.owner === 'user') {
      // The provider no longer honours this user's token (revoked in its settings, say): ask again.
      if (await deps.vault.markConnection(caller.identity.tenant, caller.identity.subject, appId, 'needs_reconsent', read.message)) {
        await deps.audit.record({ ...auditContextOf(caller), kind: 'connection.needs_reconsent', outcome: 'needs_reconsent', app: appId, message: read.message });
      }
      throw connectionRequired(connector, app, 'revoked', `${read.message}; ${caller.identity.subject} must connect ${connector.displayName} again.`);
    }
    const message = `${read.message} (${actionName} as ${describeCredential(caller, credential)})`;
    if (read.kind === 'failed' && read.retryable) throw new Error(message);
    throw ApplicationFailure.nonRetryable(message, FailureType.appRequestFailed, { app: appId, action: actionName, status });
  };
}
