import { describe, expect, it } from 'vitest';
import { type CancelSignal, CancelToken } from './cancel-signal.ts';

describe('CancelToken', () => {
  it('runs each listener once on the first cancel, skips removed ones, and keeps the first reason', () => {
    const token = new CancelToken();
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    token.addEventListener('abort', a);
    token.addEventListener('abort', b);
    token.removeEventListener('abort', b);
    token.cancel('gone');
    token.cancel('again');
    expect(calls).toEqual(['a']);
    expect({ aborted: token.aborted, reason: token.reason }).toEqual({ aborted: true, reason: 'gone' });
    // A listener added after the cancel is never called (the signal will not fire again).
    token.addEventListener('abort', a);
    expect(calls).toEqual(['a']);
  });

  it('is a CancelSignal, as an AbortSignal is', () => {
    const controller = new AbortController();
    const signals: CancelSignal[] = [new CancelToken(), controller.signal];
    expect(signals.every((s) => s.aborted === false)).toBe(true);
  });
});
