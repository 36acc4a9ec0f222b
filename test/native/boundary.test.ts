// Regression tests for calls that used to kill the process (abort, SIGFPE, SIGSEGV)
// instead of throwing: each runs in a child process, so a crash fails its test instead
// of the whole file. Direct addon calls check the binding as the last line of defence;
// engine calls check that the same input also never reaches a kernel unchecked.
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { nativeAddonPath } from '../../src/backend/native.js';
import { nativeSuite } from './helpers.js';

const { it, run } = nativeSuite('native boundary: hostile sizes never crash the process');

/** Runs ESM `code` (with `addon` and the engine `E` in scope) in a child; returns its stdout. */
function child(code: string): string {
  const prelude = `import { createRequire } from 'node:module'; import * as E from './src/engine/index.ts';
    const addon = createRequire(import.meta.url)(${JSON.stringify(nativeAddonPath)}); E.setBackend('cpu');
    const f = (n) => new Float32Array(n);
    const outcome = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.constructor.name + ': ' + e.message; } };\n`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', prelude + code], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.signal, null, `the child died of ${r.signal}: ${r.stderr.slice(-400)}`);
  assert.is(r.status, 0, `the child exited ${r.status}: ${r.stderr.slice(-400)}`);
  return r.stdout;
}

const conv = `{ N: 1, C: 16, H: 1, W: 1, K: 1, OH: 2, OW: 1, kh: 1, kw: 1, sh: 2 ** 53, sw: 1000, ph: 2 ** 52, pw: 255, dh: 1, dw: 1, groups: 1 }`;

it('conv2d and both backwards: a huge padding is a RangeError, not a wrapped scratch size', () => {
  const out = child(`
    console.log(outcome(() => addon.conv2d(${conv}, f(16), f(16), null, f(2))));
    console.log(outcome(() => addon.conv2dBackwardInput(${conv}, f(2), f(16), f(16))));
    console.log(outcome(() => addon.conv2dBackwardWeight(${conv}, f(16), f(2), f(16))));
    console.log(outcome(() => addon.conv2d({ ...${conv}, sh: 2, sw: 2, ph: 2 ** 20, pw: 2 ** 20, OH: 2 ** 20 + 1, OW: 1 }, f(16), f(16), null, f(2 ** 20 + 1))));
    console.log(outcome(() => E.conv2d(E.ones([1, 16, 1, 1]), E.ones([1, 16, 1, 1]), null, { stride: [2 ** 53, 1000], padding: [2 ** 52, 255] })));`);
  const lines = out.trim().split('\n');
  assert.is(lines.length, 5, out);
  for (const l of lines.slice(0, 4)) assert.match(l, /^RangeError: medianomaly cpu conv2d\w*: p\.(sh|ph|OW|OH)|^RangeError: medianomaly cpu conv2d\w*: the padded input/);
  assert.match(lines[4], /^RangeError: conv2d: stride must be at most 2\^20/);
});

it('batch norm with a spatial size of 0 (kernels and engine) computes instead of SIGFPE', () => {
  const out = child(`
    const p = { N: 2, C: 3, HW: 0 };
    console.log(outcome(() => addon.batchNormApply(p, f(0), f(3), f(3), null, null, f(0))));
    const dg = f(3).fill(7), db = f(3).fill(7);
    console.log(outcome(() => addon.batchNormBackward({ ...p, training: false }, f(0), f(0), f(3), f(3), null, f(0), dg, db)), Array.from(dg).join(), Array.from(db).join());
    const x = E.zeros([2, 3, 0]).requiresGrad_();
    const w = E.ones([3]).requiresGrad_();
    console.log(outcome(() => E.batchNorm(x, E.zeros([3]), E.ones([3]), w, null, { training: false }).sum().backward()), Array.from(w.grad.data).join());`);
  assert.equal(out.trim().split('\n'), ['ok', 'ok 0,0,0 0,0,0', 'ok 0,0,0']);
});

it('stridedCopy and binary: strides whose extent wraps int64 are a RangeError, not SIGSEGV', () => {
  const out = child(`
    // (2049 − 1)·2^53 = 2^64: the extent wraps to [0, 0] in unchecked int64 and passes a bounds check.
    console.log(outcome(() => addon.stridedCopy({ shape: [2049], srcStrides: [2 ** 53], srcOffset: 0, dstStrides: [1], dstOffset: 0, accumulate: false }, f(4096), f(4096))));
    console.log(outcome(() => addon.stridedCopy({ shape: [2049], srcStrides: [1], srcOffset: 0, dstStrides: [2 ** 53], dstOffset: 0, accumulate: true }, f(4096), f(4096))));
    console.log(outcome(() => addon.binary({ op: 'add', shape: [2049], aStrides: [2 ** 53], bStrides: [1] }, f(4096), f(4096), f(4096))));`);
  const lines = out.trim().split('\n');
  assert.match(lines[0], /^RangeError: medianomaly cpu stridedCopy: p\.srcStrides/);
  assert.match(lines[1], /^RangeError: medianomaly cpu stridedCopy: p\.dstStrides/);
  assert.match(lines[2], /^RangeError: medianomaly cpu binary: p\.aStrides/);
});

it('reduceSum over an empty axis: outer·inner beyond 2^53 is a RangeError, not a wrapped output size', () => {
  // outer·mid·inner = 0 passes the element-count check; y's size outer·inner = 2^63 wrapped.
  const out = child(`console.log(outcome(() => addon.reduceSum({ outer: 2 ** 31, mid: 0, inner: 2 ** 32 }, f(0), f(4096))));`);
  assert.match(out, /^RangeError: medianomaly cpu reduceSum: the sizes in p describe more than 2\^53 elements/);
});

it('pooling: an output larger than the windows that fit is a RangeError naming p.OH', () => {
  const out = child(`
    const pool = { N: 1, C: 1, H: 4, W: 4, OH: 2 ** 40, OW: 1, kh: 2, kw: 2, sh: 2 ** 20, sw: 2, ph: 1, pw: 0, dh: 1, dw: 1, ceilMode: false, countIncludePad: true, divisorOverride: 0 };
    console.log(outcome(() => addon.avgPool2d(pool, f(16), f(4))));
    console.log(outcome(() => addon.maxPool2d({ ...pool, OH: 3 }, f(16), f(3), new Int32Array(3))));
    console.log(outcome(() => addon.adaptiveAvgPool2d({ N: 1, C: 1, H: 2 ** 30, W: 0, OH: 2 ** 30, OW: 1 }, f(0), f(2 ** 10))));`);
  const lines = out.trim().split('\n');
  assert.is(lines.length, 3, out);
  for (const l of lines) assert.match(l, /^RangeError: medianomaly cpu (avgPool2d|maxPool2d|adaptiveAvgPool2d): /);
});

run();
