// Progress lines: rates that never read 0 img/s, step-level heartbeats on a pipe (a fake
// clock decides when; no test waits on wall-clock time), scoring counts with rate and ETA.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Progress } from '../../src/methods/types.js';
import { formatRate, heartbeatSeconds, progressReporter, progressText, scoreText } from '../../src/cli/progress.js';

/** A non-terminal stream that keeps what is written. */
function pipe(): { stream: NodeJS.WriteStream; lines: () => string[] } {
  let text = '';
  const stream = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

const report = (step: number, over: Partial<Progress> = {}): Progress => ({
  epoch: 1, epochs: 250, step, stepsPerEpoch: 7, loss: 0.5, imagesPerSecond: 0.5, etaSeconds: 200_000, epochDone: step === 7, ...over,
});

test('formatRate: a slow run reads 0.04 img/s or s/img, never 0 img/s', () => {
  assert.is(formatRate(1234.4), '1234 img/s');
  assert.is(formatRate(12.34), '12.3 img/s');
  assert.is(formatRate(0.496), '0.50 img/s'); // dae at 128 px on 2 cores: 806 s for 400 images
  assert.is(formatRate(0.04), '25.0 s/img');
  assert.is(formatRate(0.001), '1000 s/img');
  assert.is(formatRate(0), '? img/s');
  assert.not.match(progressText(report(7, { imagesPerSecond: 0.3 })), / 0 img\/s/);
  assert.match(progressText(report(7, { imagesPerSecond: 0.3 })), /0\.30 img\/s/);
});

test('piped: one line per epoch, and a step line once the heartbeat interval has passed', () => {
  let t = 0;
  const out = pipe();
  const r = progressReporter('dae synth-brain ', out.stream, { heartbeatSeconds: 30, now: () => t });
  t = 29_000;
  r.update(report(1));
  assert.equal(out.lines(), [], 'nothing before 30 s');
  t = 30_000;
  r.update(report(2));
  assert.equal(out.lines(), ['dae synth-brain epoch 1/250 step 2/7 loss 0.5000  0.50 img/s  ETA 55:33:20']);
  t = 40_000;
  r.update(report(3));
  assert.is(out.lines().length, 1, 'the next heartbeat is 30 s after the last line');
  t = 45_000;
  r.update(report(7));
  assert.match(out.lines()[1], /^dae synth-brain epoch 1\/250 loss 0\.5000 {2}0\.50 img\/s {2}ETA /);
});

test('heartbeat interval 0: a line for every step; bench (plainEpochs false) gets heartbeats too', () => {
  const out = pipe();
  const r = progressReporter('', out.stream, { heartbeatSeconds: 0, now: () => 0 });
  for (let s = 1; s <= 7; s++) r.update(report(s));
  assert.is(out.lines().length, 7);
  const bench = pipe();
  let t = 0;
  const b = progressReporter('[1/2] ', bench.stream, { plainEpochs: false, heartbeatSeconds: 30, now: () => t });
  r.update(report(7));
  b.update(report(7));
  assert.equal(bench.lines(), [], 'no per-epoch line for bench');
  t = 31_000;
  b.update(report(3));
  assert.match(bench.lines()[0], /^\[1\/2\] epoch 1\/250 step 3\/7 /);
});

test('a step longer than the interval: the timer repeats the last report with the time since it', () => {
  let t = 0;
  const out = pipe();
  const r = progressReporter('dae ', out.stream, { heartbeatSeconds: 30, now: () => t, timer: false });
  r.heartbeat();
  assert.equal(out.lines(), [], 'nothing reported yet');
  t = 31_000;
  r.update(report(1)); // a heartbeat line: 31 s since the start
  t = 50_000;
  r.heartbeat();
  assert.is(out.lines().length, 1, 'not yet 30 s since the last line');
  t = 61_000;
  r.heartbeat();
  assert.is(out.lines()[1], 'dae epoch 1/250 step 1/7 loss 0.5000  0.50 img/s  ETA 55:33:20  (working, 0:30 since this report)');
  r.done();
  t = 200_000;
  r.heartbeat();
  assert.is(out.lines().length, 2, 'silent once done');
});

test('MEDIANOMALY_HEARTBEAT_S sets the interval; a bad value names the variable', () => {
  assert.is(heartbeatSeconds({}), 30);
  assert.is(heartbeatSeconds({ MEDIANOMALY_HEARTBEAT_S: '0' }), 0);
  assert.is(heartbeatSeconds({ MEDIANOMALY_HEARTBEAT_S: '2.5' }), 2.5);
  assert.throws(() => heartbeatSeconds({ MEDIANOMALY_HEARTBEAT_S: 'soon' }), /MEDIANOMALY_HEARTBEAT_S must be a number of seconds/);
});

test('scoring: images scored of the total with rate and ETA; heartbeats while it runs, a last line when done', () => {
  assert.is(scoreText({ done: 640, total: 10000, seconds: 2 }), 'scored 640/10000 test images  320 img/s  ETA 0:29');
  assert.is(scoreText({ done: 10000, total: 10000, seconds: 21 }), 'scored 10000/10000 test images  476 img/s  in 0:21');
  let t = 0;
  const out = pipe();
  const r = progressReporter('', out.stream, { heartbeatSeconds: 30, now: () => t });
  t = 10_000;
  r.scoring({ done: 64, total: 10000, seconds: 10 });
  assert.equal(out.lines(), []);
  t = 31_000;
  r.scoring({ done: 2000, total: 10000, seconds: 31 });
  r.scoring({ done: 10000, total: 10000, seconds: 40 });
  assert.equal(out.lines(), ['scored 2000/10000 test images  64.5 img/s  ETA 2:04', 'scored 10000/10000 test images  250 img/s  in 0:40']);
});

test.run();
