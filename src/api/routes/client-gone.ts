import type { ServerResponse } from 'node:http';
import { AppError, CancelToken } from '../../core/index.ts';

/**
 * A token cancelled when the client goes away before its answer is written, so queued work for
 * it is dropped from the batch queue. The response's 'close' tells, not the request's: that one
 * fires as soon as the body has been read.
 */
export function cancelOnClose(res: ServerResponse): CancelToken {
  const gone = new CancelToken();
  // `on`, not `once`: 'close' fires once anyway, and once() wraps the listener on every request.
  res.on('close', () => {
    if (!res.writableFinished) gone.cancel(new AppError('CLIENT_CLOSED', 'the client closed the connection'));
  });
  return gone;
}
