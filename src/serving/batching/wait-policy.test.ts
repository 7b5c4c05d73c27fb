import { describe, expect, it } from 'vitest';
import { WaitPolicy } from './wait-policy.ts';

const queued = (oldest: number, deadline = Number.POSITIVE_INFINITY) => ({
  oldestEnqueuedAt: () => oldest,
  earliestDeadline: () => deadline,
});

describe('WaitPolicy', () => {
  it('adaptive: sends a lone request at once, and waits turn by turn only while requests keep arriving', () => {
    const policy = new WaitPolicy(2, true);
    policy.arrived();
    expect(policy.decide(0, false, queued(0))).toBeNull();

    policy.taken();
    policy.arrived();
    policy.arrived();
    expect(policy.decide(0, false, queued(0))).toBe(0); // two arrived: wait a turn
    expect(policy.decide(0, false, queued(0))).toBe(0); // a look between turns keeps the wait
    policy.arrived();
    expect(policy.decide(0.5, true, queued(0))).toBe(0); // one more came during the turn: another
    expect(policy.decide(1, true, queued(0))).toBeNull(); // nothing new: go
    policy.taken();
    policy.arrived();
    policy.arrived();
    expect(policy.decide(3, false, queued(0))).toBeNull(); // maxDelayMs since the oldest has passed
  });

  it('fixed: waits until maxDelayMs after the oldest request, however many arrive', () => {
    const policy = new WaitPolicy(5, false);
    policy.arrived();
    expect(policy.decide(1, false, queued(0))).toBe(4);
    expect(policy.decide(5, false, queued(0))).toBeNull();
  });

  it('stops waiting in time for the earliest deadline, leaving it the mean run time (at least 1 ms)', () => {
    const policy = new WaitPolicy(100, false);
    expect(policy.decide(0, false, queued(0, 10))).toBe(9);
    policy.noteRun(4, 3);
    expect(policy.decide(0, false, queued(0, 10))).toBe(6);
    expect(policy.decide(6, false, queued(0, 10))).toBeNull();
  });

  it('keeps a weighted mean of run times and whether the last call held one request', () => {
    const policy = new WaitPolicy(2, true);
    policy.noteRun(10, 1);
    expect(policy.runMsAverage).toBe(10);
    expect(policy.lastCallSingle).toBe(true);
    policy.noteRun(20, 4);
    expect(policy.runMsAverage).toBeCloseTo(12);
    expect(policy.lastCallSingle).toBe(false);
  });

  it('counts a request run without the queue as seen, so it does not make the next one wait', () => {
    const policy = new WaitPolicy(2, true);
    policy.arrived();
    policy.ranAlone();
    policy.arrived();
    expect(policy.decide(0, false, queued(0))).toBeNull();
  });
});
