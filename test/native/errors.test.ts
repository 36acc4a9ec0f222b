// Bad input never takes the process down: every check throws a JS TypeError or
// RangeError naming the argument, and the addon keeps working afterwards. Also: the
// addon loads in a worker thread (context-aware) and the controls validate input.
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { nativeAddonPath, setBlas, setThreads } from '../../src/backend/native.js';
import { native, nativeSuite, near } from './helpers.js';

const { it, run } = nativeSuite('native argument checks');

function throwsNamed(fn: () => void, type: typeof TypeError | typeof RangeError, name: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type, `expected a ${type.name}, got ${String(e)}`);
    assert.ok((e as Error).message.includes(name), `message should name ${name}: ${(e as Error).message}`);
    return;
  }
  assert.unreachable(`expected a ${type.name} naming ${name}`);
}

const gp = { M: 2, N: 3, K: 4, transA: false, transB: false, alpha: 1, beta: 0 };
const f = (n: number) => new Float32Array(n);

it('gemm: wrong array type, short arrays, bad sizes and NaN params', () => {
  throwsNamed(() => native.gemm(gp, new Float64Array(8) as unknown as Float32Array, f(12), f(6)), TypeError, "'a'");
  throwsNamed(() => native.gemm(gp, f(8), new Int32Array(12) as unknown as Float32Array, f(6)), TypeError, "'b'");
  throwsNamed(() => native.gemm(gp, f(8), f(12), f(5)), RangeError, "'c'");
  throwsNamed(() => native.gemm(gp, f(7), f(12), f(6)), RangeError, "'a'");
  throwsNamed(() => native.gemm({ ...gp, M: 2.5 }, f(8), f(12), f(6)), RangeError, 'p.M');
  throwsNamed(() => native.gemm({ ...gp, K: -1 }, f(8), f(12), f(6)), RangeError, 'p.K');
  throwsNamed(() => native.gemm({ ...gp, N: '3' as unknown as number }, f(8), f(12), f(6)), TypeError, 'p.N');
  throwsNamed(() => native.gemm({ ...gp, alpha: NaN }, f(8), f(12), f(6)), RangeError, 'p.alpha');
  throwsNamed(() => native.gemm({ ...gp, transA: 1 as unknown as boolean }, f(8), f(12), f(6)), TypeError, 'p.transA');
  throwsNamed(() => (native.gemm as unknown as (...a: unknown[]) => void)(null, f(8), f(12), f(6)), TypeError, "'p'");
  throwsNamed(() => (native.gemm as unknown as (...a: unknown[]) => void)(gp, f(8)), TypeError, 'arguments');
  throwsNamed(() => native.gemm({ ...gp, M: 2 ** 30, K: 2 ** 30 }, f(8), f(12), f(6)), RangeError, "2^53");
});

it('conv / pool / copy / elementwise / search checks name their argument', () => {
  const cp = { N: 1, C: 3, H: 4, W: 4, K: 2, OH: 2, OW: 2, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 };
  throwsNamed(() => native.conv2d(cp, f(48), f(54), null, f(7)), RangeError, "'y'");
  throwsNamed(() => native.conv2d(cp, f(48), f(54), f(1), f(8)), RangeError, "'bias'");
  throwsNamed(() => native.conv2d({ ...cp, groups: 2 }, f(48), f(54), null, f(8)), RangeError, 'p.groups');
  throwsNamed(() => native.conv2d({ ...cp, sh: 0 }, f(48), f(54), null, f(8)), RangeError, 'p.sh');
  throwsNamed(() => native.conv2dBackwardWeight(cp, f(48), f(8), f(53)), RangeError, "'dw'");

  const pp = { N: 1, C: 1, H: 4, W: 4, OH: 2, OW: 2, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1, ceilMode: false, countIncludePad: true, divisorOverride: 0 };
  throwsNamed(() => native.maxPool2dBackward(pp, f(4), new Int32Array([0, 1, 99, 2]), f(16)), RangeError, "'argmax'");
  throwsNamed(() => native.maxPool2d(pp, f(16), f(4), f(4) as unknown as Int32Array), TypeError, "'argmax'");

  const sp = { shape: [4, 4], srcStrides: [4, 1], srcOffset: 1, dstStrides: [4, 1], dstOffset: 0, accumulate: false };
  throwsNamed(() => native.stridedCopy(sp, f(16), f(16)), RangeError, "'src'");
  throwsNamed(() => native.stridedCopy({ ...sp, srcOffset: 0, dstStrides: [5, 1] }, f(16), f(16)), RangeError, "'dst'");
  throwsNamed(() => native.stridedCopy({ ...sp, shape: [1, 1, 1, 1, 1, 1, 1], srcStrides: [1, 1, 1, 1, 1, 1, 1], dstStrides: [1, 1, 1, 1, 1, 1, 1] }, f(16), f(16)), RangeError, 'p.shape');

  throwsNamed(() => native.unary({ op: 'gelu' as never, n: 4, alpha: 0, beta: 0 }, f(4), f(4)), RangeError, 'p.op');
  throwsNamed(() => native.binary({ op: 'add', shape: [4], aStrides: [1], bStrides: [2] }, f(4), f(4), f(4)), RangeError, "'b'");
  throwsNamed(() => native.adamStep({ n: 4, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 0, amsgrad: false }, f(4), f(4), f(4), f(4), null), RangeError, 'p.step');
  throwsNamed(() => native.adamStep({ n: 4, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, amsgrad: true }, f(4), f(4), f(4), f(4), null), TypeError, "'vmax'");
  throwsNamed(() => native.coresetGreedy({ n: 4, d: 2, m: 2, newest: 4, starts: 0 }, f(8), new Int32Array(0), f(4), new Int32Array(2)), RangeError, 'p.newest');
  throwsNamed(() => native.coresetGreedy({ n: 4, d: 2, m: 2, newest: -1, starts: 1 }, f(8), new Int32Array(1), f(3), new Int32Array(2)), RangeError, "'minDist'");
  throwsNamed(() => native.knnSearch({ nq: 1, nb: 4, d: 2, k: 1 }, f(2), f(8), f(3), f(1), new Int32Array(1)), RangeError, "'baseNorms'");
});

it('controls validate their input', () => {
  throwsNamed(() => setThreads(0), RangeError, "'n'");
  throwsNamed(() => setThreads(1.5), RangeError, "'n'");
  throwsNamed(() => setBlas('mkl' as never), RangeError, "'mode'");
});

it('the addon still works after all of the above', () => {
  const c = f(6);
  native.gemm(gp, new Float32Array(8).fill(1), new Float32Array(12).fill(1), c);
  near(c, new Float32Array(6).fill(4), 0, 'gemm after errors');
});

it('loads and runs in a worker thread (context-aware)', async () => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData);
    const c = new Float32Array(4);
    a.gemm({ M: 2, N: 2, K: 2, transA: false, transB: false, alpha: 1, beta: 0 },
      new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), c);
    let threw = false;
    try { a.gemm({}, c, c, c); } catch (e) { threw = e instanceof TypeError; }
    parentPort.postMessage({ c: Array.from(c), threw });
  `;
  const result = await new Promise<{ c: number[]; threw: boolean }>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: nativeAddonPath });
    w.once('message', resolve);
    w.once('error', reject);
  });
  assert.equal(result.c, [1, 2, 3, 4]);
  assert.ok(result.threw, 'argument errors are JS exceptions in a worker too');
});

run();
