import type { ErrorRequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

/**
 * The gateway's last error handler: whatever a route let through is answered as JSON without internals (no
 * stack, no file paths, no message from inside), and logged in full under an id the answer names. Without it
 * Express answers with its HTML page and the stack trace.
 */
export function finalErrorHandler(log: Logger): ErrorRequestHandler {
  return (error: { type?: string; status?: number; statusCode?: number }, req, res, next) => {
    if (res.headersSent) return next(error);
    const status = error.status ?? error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = error.type === 'entity.parse.failed' ? 'The body is not valid JSON.' : error.type === 'entity.too.large' ? 'The request body is too large.' : 'The request could not be read.';
      res.status(status).json({ error: 'invalid_request', message });
      return;
    }
    const errorId = randomUUID();
    log.error({ err: error, errorId, method: req.method, path: req.path }, 'request failed');
    res.status(500).json({ error: 'internal_error', message: `The gateway could not answer this request; the operator can find it in the gateway log under ${errorId}.` });
  };
}
