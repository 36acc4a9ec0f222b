// One assertion the tests share: `fn` throws, and the message matches every pattern (the
// parts of an error a user must see: the thing named, what was wrong, what to do).
import * as assert from 'uvu/assert';

export function throwsMatching(fn: () => unknown, ...parts: RegExp[]): void {
  try {
    fn();
  } catch (e) {
    const msg = (e as Error).message;
    for (const p of parts) assert.match(msg, p);
    return;
  }
  assert.unreachable('expected an error');
}
