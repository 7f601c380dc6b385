import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs (pino). Credentials never reach a log line: headers that carry them and any
 * field named like a token, code, secret or state are replaced before writing.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: 'baton-gateway',
      level: options.level ?? process.env.BATON_LOG_LEVEL ?? 'info',
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.token', '*.accessToken', '*.refreshToken', '*.code', '*.state', '*.requestState', '*.secret', '*.password',
          'token', 'accessToken', 'refreshToken', 'code', 'state', 'requestState', 'secret', 'password',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? process.stdout,
  );
}
