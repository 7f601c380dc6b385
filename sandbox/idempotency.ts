import type { RequestHandler, Response } from 'express';
import { noteReplayed, type AppName } from './request-log.ts';

interface StoredResponse {
  status: number;
  contentType: string | null;
  body: Buffer;
}

/**
 * Idempotency-Key support for the apps' POST endpoints, as payment-style APIs do it: the first response
 * per (app, key) is stored and replayed for later requests with that key, with no second effect. A request
 * arriving while the first is still being processed waits for it. Server errors are not stored, so a
 * retry after one runs again. The middleware sits after authentication: a request with a bad credential
 * neither consumes nor replays a key.
 */
export class IdempotencyStore {
  #responses = new Map<string, Promise<StoredResponse | null>>();

  middleware(app: AppName): RequestHandler {
    return async (req, res, next) => {
      const key = req.get('idempotency-key');
      if (req.method !== 'POST' || !key) return next();
      const id = `${app}\u0000${key}`;
      for (let earlier = this.#responses.get(id); earlier; earlier = this.#responses.get(id)) {
        const stored = await earlier;
        if (stored) return replay(res, stored);
      }
      let settle!: (stored: StoredResponse | null) => void;
      this.#responses.set(id, new Promise((resolve) => (settle = resolve)));
      captureResponse(res, (stored) => {
        if (stored.status >= 500) {
          this.#responses.delete(id);
          settle(null);
        } else {
          settle(stored);
        }
      });
      next();
    };
  }
}

function replay(res: Response, stored: StoredResponse): void {
  noteReplayed(res);
  res.status(stored.status);
  if (stored.contentType) res.set('Content-Type', stored.contentType);
  res.set('Idempotent-Replayed', 'true');
  res.end(stored.body);
}

/** Calls `onDone` with the status, type and body the handler sends. */
function captureResponse(res: Response, onDone: (stored: StoredResponse) => void): void {
  const end = res.end.bind(res);
  res.end = function (this: Response, ...args: unknown[]) {
    const [chunk, encoding] = args;
    const body =
      typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : chunk instanceof Uint8Array ? Buffer.from(chunk) : Buffer.alloc(0);
    const contentType = res.get('Content-Type');
    onDone({ status: res.statusCode, contentType: contentType ?? null, body });
    return (end as (...endArgs: unknown[]) => Response).apply(this, args);
  } as Response['end'];
}
