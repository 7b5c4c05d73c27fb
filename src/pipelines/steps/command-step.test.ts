import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { signalGroup } from './command-step.js';

describe('signalGroup', () => {
  it('signals a live process group', async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const exited = once(child, 'exit');
    expect(signalGroup(child.pid, 'SIGKILL')).toBe(true);
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
  });

  // The SIGKILL that follows a timeout's SIGTERM fires from a timer; it used to throw ESRCH
  // there, uncaught, when the group had exited in between.
  it('returns false, without throwing, for a group that has already exited', async () => {
    const child = spawn('true', [], { detached: true, stdio: 'ignore' });
    await once(child, 'exit');
    // What the timer used to call directly:
    expect(() => process.kill(-(child.pid as number), 'SIGKILL')).toThrow(/ESRCH/);
    expect(() => signalGroup(child.pid, 'SIGKILL')).not.toThrow();
    expect(signalGroup(child.pid, 'SIGKILL')).toBe(false);
    expect(signalGroup(undefined, 'SIGKILL')).toBe(false);
  });
});
