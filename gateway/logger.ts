import { pino, type Logger } from 'pino';
import { activeSpanContext } from '../core/telemetry/trace-id.ts';

/**
 * Structured JSON logs (pino). Credentials never reach a log line: headers that carry them and any
 * field named like a token, code, secret or state are replaced before writing. A line written while
 * a span is active carries its trace_id and span_id, so logs join up with traces.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: 'baton-gateway',
      level: options.level ?? process.env.BATON_LOG_LEVEL ?? 'info',
      mixin: traceFields,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.token',
          '*.accessToken',
          '*.refreshToken',
          '*.code',
          '*.state',
          '*.requestState',
          '*.secret',
          '*.password',
          'token',
          'accessToken',
          'refreshToken',
          'code',
          'state',
          'requestState',
          'secret',
          'password',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? process.stdout,
  );
}

function traceFields(): Record<string, string> {
  const span = activeSpanContext();
  return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
}
