// couplingForward / couplingBackward / couplingRotation against the ts reference: odd
// sizes, batch 1, vectors (HW = 1) and maps, both clamp forms, a permutation or none,
// with and without a log-det gradient; the same bits on 1 and 2 threads; the rotation
// bit for bit equal to the reference; argument checks that name the argument.
import * as assert from 'uvu/assert';
import type { CouplingParams } from '../../src/backend/types.js';
import { identical, native, nativeSuite, near, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native coupling');

function perm(r: () => number, C: number): Int32Array {
  const p = Int32Array.from({ length: C }, (_, i) => i);
  for (let i = C - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

interface Case {
  p: CouplingParams;
  x: Float32Array;
  r: Float32Array;
  gamma: Float32Array;
  offset: Float32Array;
  permInv: Int32Array | null;
  dy: Float32Array;
  dl: Float32Array | null;
}

function makeCase(seed: number, B: number, C: number, HW: number, scaled: boolean, hard: boolean, withDl: boolean): Case {
  const r = rng(seed);
  const C1 = C - Math.floor(C / 2);
  const C2 = C - C1;
  const p: CouplingParams = { B, C, C1, HW, clamp: scaled ? 2 : 1.9, scaled };
  // r spans large subnet outputs too (s up to ±40 before the 0.1): the clamp saturates.
  const rr = rand(r, B * 2 * C2 * HW, -40, 40);
  const gamma = rand(r, C, 6, 14);
  if (C > 2) gamma[1] = 45; // above the softplus threshold (γ/2 > 20)
  return {
    p,
    x: rand(r, B * C * HW, -3, 3),
    r: rr,
    gamma,
    offset: rand(r, C, -0.5, 0.5),
    permInv: hard ? perm(r, C) : null,
    dy: rand(r, B * C * HW),
    dl: withDl ? rand(r, B) : null,
  };
}

function forward(k: typeof ref, c: Case) {
  const { B, C, C1, HW } = c.p;
  const y = new Float32Array(B * C * HW);
  const th = new Float32Array(B * (C - C1) * HW);
  const ld = new Float32Array(B);
  k.couplingForward(c.p, c.x, c.r, c.gamma, c.offset, c.permInv, y, th, ld);
  return { y, th, ld };
}

function backward(k: typeof ref, c: Case, th: Float32Array) {
  const { B, C, C1, HW } = c.p;
  const dx = new Float32Array(B * C * HW);
  const dr = new Float32Array(B * 2 * (C - C1) * HW);
  const dg = new Float32Array(C);
  const doff = new Float32Array(C);
  k.couplingBackward(c.p, c.x, c.r, th, c.gamma, c.permInv, c.dy, c.dl, dx, dr, dg, doff);
  return { dx, dr, dg, doff };
}

const SHAPES: [number, number, number][] = [
  [1, 2, 1], [1, 7, 1], [5, 9, 1], [3, 33, 1], [17, 64, 1], // vectors (CFlow fibers)
  [1, 3, 5], [2, 5, 12], [3, 16, 7], [1, 31, 49], // maps
];

it('forward and backward agree with ts (vectors and maps, odd sizes, batch 1, both clamps, permutation or none)', () => {
  let n = 0;
  for (const [B, C, HW] of SHAPES) {
    for (const scaled of [false, true]) {
      for (const hard of [false, true]) {
        const c = makeCase(++n * 7919, B, C, HW, scaled, hard, n % 2 === 0);
        const what = `B${B} C${C} HW${HW} scaled=${scaled} hard=${hard}`;
        const f0 = forward(ref, c);
        const f1 = forward(native, c);
        near(f1.y, f0.y, 1e-6, `${what} y`);
        near(f1.th, f0.th, 1e-6, `${what} th`);
        near(f1.ld, f0.ld, 1e-6, `${what} logdet`);
        // The backward from the same saved th on both sides.
        const b0 = backward(ref, c, f0.th);
        const b1 = backward(native, c, f0.th);
        near(b1.dx, b0.dx, 1e-6, `${what} dx`);
        near(b1.dr, b0.dr, 1e-6, `${what} dr`);
        near(b1.dg, b0.dg, 1e-5, `${what} dgamma`);
        near(b1.doff, b0.doff, 1e-6, `${what} doffset`);
      }
    }
  }
});

it('the same bits on 1 and 2 threads (forward, backward)', () => {
  for (const [B, C, HW] of [[64, 200, 1], [3, 40, 300], [1, 9, 1000]] as [number, number, number][]) {
    for (const hard of [false, true]) {
      const c = makeCase(B * 31 + C, B, C, HW, false, hard, true);
      const [a, b] = [1, 2].map((t) => withThreads(t, () => {
        const f = forward(native, c);
        return { ...f, ...backward(native, c, f.th) };
      }));
      for (const key of ['y', 'th', 'ld', 'dx', 'dr', 'dg', 'doff'] as const) identical(a[key], b[key], `B${B} C${C} HW${HW} hard=${hard} ${key}`);
    }
  }
});

it('couplingRotation: the same bits as ts (float64 in one order), any thread count; orthogonal with det +1', () => {
  for (const C of [1, 2, 3, 8, 31, 40, 65]) {
    const r = rng(C);
    const a = Float64Array.from({ length: C * C }, () => r() * 2 - 1);
    const q0 = new Float64Array(C * C);
    ref.couplingRotation({ C }, a.slice(), q0);
    for (const t of [1, 2]) {
      const q1 = new Float64Array(C * C);
      withThreads(t, () => native.couplingRotation({ C }, a.slice(), q1));
      for (let i = 0; i < q0.length; i++) if (!Object.is(q0[i], q1[i])) assert.unreachable(`C ${C} threads ${t} q[${i}]: ${q1[i]} vs ${q0[i]}`);
    }
    for (let i = 0; i < C; i++) {
      for (let k = 0; k < C; k++) {
        let d = 0;
        for (let m = 0; m < C; m++) d += q0[i * C + m] * q0[k * C + m];
        assert.ok(Math.abs(d - (i === k ? 1 : 0)) < 1e-12, `C ${C}: (QQᵀ)[${i},${k}] = ${d}`);
      }
    }
  }
});

function throwsNamed(fn: () => void, type: typeof TypeError | typeof RangeError, name: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type);
    assert.ok((e as Error).message.includes(name), `message should name ${name}: ${(e as Error).message}`);
    return;
  }
  assert.unreachable(`expected a ${type.name} naming ${name}`);
}

it('argument checks name the argument', () => {
  const c = makeCase(5, 2, 5, 3, false, true, true);
  const { p } = c;
  const f = (n: number) => new Float32Array(n);
  const n = 2 * 5 * 3;
  const fwd = (over: Partial<Case>, pp: CouplingParams = p, y = f(n)) => {
    const o = { ...c, ...over };
    native.couplingForward(pp, o.x, o.r, o.gamma, o.offset, o.permInv, y, f(2 * 2 * 3), f(2));
  };
  throwsNamed(() => fwd({ x: f(n - 1) }), RangeError, "'x'");
  throwsNamed(() => fwd({ r: f(10) }), RangeError, "'r'");
  throwsNamed(() => fwd({ gamma: f(4) }), RangeError, "'gamma'");
  throwsNamed(() => fwd({}, p, f(3)), RangeError, "'y'");
  throwsNamed(() => fwd({ permInv: Int32Array.from([0, 1, 2, 3, 5]) }), RangeError, 'permInv');
  throwsNamed(() => fwd({ permInv: Int32Array.from([0, 1, 2, 2, 4]) }), RangeError, 'permInv');
  throwsNamed(() => fwd({}, { ...p, C1: 6 }), RangeError, 'p.C1');
  throwsNamed(() => fwd({}, { ...p, clamp: 0 }), RangeError, 'p.clamp');
  throwsNamed(() => fwd({}, { ...p, scaled: 1 as unknown as boolean }), TypeError, 'p.scaled');
  throwsNamed(() => fwd({ offset: new Float64Array(5) as unknown as Float32Array }), TypeError, "'offset'");
  throwsNamed(
    () => native.couplingBackward(p, c.x, c.r, f(12), c.gamma, c.permInv, c.dy, f(1), f(n), f(2 * 4 * 3), f(5), f(5)),
    RangeError,
    "'dlogdet'",
  );
  throwsNamed(() => native.couplingRotation({ C: 3 }, new Float64Array(8), new Float64Array(9)), RangeError, "'a'");
  // still working afterwards
  const ok = forward(native, c);
  assert.ok(Number.isFinite(ok.ld[0]));
});

run();
