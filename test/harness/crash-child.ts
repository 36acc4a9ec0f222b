// A training run that is killed at a named crash point: the child process of
// crash-resume.test.ts. Usage: crash-child.ts <run dir> <point> <epoch> <self|wait>
//   self  the process sends itself SIGKILL at the point (kill -9: no cleanup code runs);
//   wait  it prints "at <point>" and blocks, for the parent to kill it with SIGKILL.
// The point, not a timer, decides where the kill lands, so the test is deterministic.
import { setCrashHook, type CrashPoint } from '../../src/methods/training/crash-points.js';
import { train } from '../../src/harness/train.js';
import { CRASH_OPTIONS, TINY } from './helpers.js';

const [dir, point, epoch, mode] = process.argv.slice(2);
setCrashHook((p: CrashPoint, e: number) => {
  if (p !== point || e !== Number(epoch)) return;
  if (mode === 'self') process.kill(process.pid, 'SIGKILL');
  process.stdout.write(`at ${p} ${e}\n`); // synchronous on a pipe
  // Block without returning to the event loop; the timeout only keeps an orphan from living forever.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
  process.exit(3);
});
await train({ method: 'ae', dataset: TINY, options: CRASH_OPTIONS, dir, resume: process.argv.includes('--resume'), evaluate: false });
process.stdout.write('finished\n');
