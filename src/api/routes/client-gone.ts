import type { ServerResponse } from 'node:http';
import { AppError, type CancelSignal } from '../../core/index.ts';

/**
 * Cancelled when the client goes away before its answer is written, so queued work for it is
 * dropped from the batch queue. The response's 'close' tells, not the request's: that one fires
 * as soon as the body has been read.
 *
 * It listens on the response only once work waits on it: most requests run at once (a model
 * that is idle, a batch that is starting) and never subscribe, and a 'close' listener per request
 * cost every one of them. `aborted` reads the response's own state, which Node sets before it
 * emits 'close', so a run that started at once still learns that its client left.
 */
class ClientGone implements CancelSignal {
  private gone: AppError | undefined;
  private listeners: (() => void)[] | null = null;

  constructor(private readonly res: ServerResponse) {}

  get aborted(): boolean {
    return this.res.destroyed && !this.res.writableFinished;
  }

  get reason(): unknown {
    if (!this.aborted) return undefined;
    this.gone ??= new AppError('CLIENT_CLOSED', 'the client closed the connection');
    return this.gone;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    if (!this.listeners) {
      this.listeners = [];
      this.res.on('close', () => this.closed());
    }
    this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.listeners?.splice(at, 1);
  }

  private closed(): void {
    if (!this.aborted) return;
    const listeners = this.listeners ?? [];
    this.listeners = null;
    for (const l of listeners) l();
  }
}

export function cancelOnClose(res: ServerResponse): CancelSignal {
  return new ClientGone(res);
}
