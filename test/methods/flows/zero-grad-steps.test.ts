// CFlow's queued zero-gradient Adam steps (PyTorch 1.x zero_grad) against stepping every time
// with a zero gradient: the same bits for values, moments and step counts — with weight decay,
// AMSGrad, a learning rate changed between steps, a parameter larger than one tile — on the
// default backend and on ts; and cflowFiberSteps with the queue against the plain path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backends, currentBackend, Generator, setBackend, Tensor } from '../../../src/engine/index.js';
import { Adam } from '../../../src/nn/optim/adam.js';
import { CFlowHeads } from '../../../src/models/flow-heads.js';
import { cflowFiberSteps } from '../../../src/methods/flows/cflow-train.js';
import { ZeroGradSteps } from '../../../src/methods/flows/zero-grad-steps.js';
import { fastestBackend } from '../helpers.js';

const main = fastestBackend();

/** A subclass with its own step(): ZeroGradSteps leaves it to the plain path. */
class PlainAdam extends Adam {
  override step(): void {
    super.step();
  }
}

function tensors(seed: number): Tensor[] {
  const g = new Generator(seed);
  return [270_001, 300, 7].map((n) => Tensor.fromData(Float32Array.from({ length: n }, () => g.normal()), [n]));
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.is(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

for (const backend of [main, 'ts'].filter((b, i, all) => all.indexOf(b) === i)) {
  test(`queued zero-gradient steps = stepping each time with zeros (${backend}; decay, AMSGrad, lr changes, > 1 tile)`, () => {
    const was = currentBackend();
    setBackend(backend);
    try {
      for (const opts of [{ weightDecay: 0, amsgrad: false }, { weightDecay: 1e-2, amsgrad: true }]) {
        const pa = tensors(1);
        const pb = tensors(1);
        const a = new Adam(pa, { lr: 1e-3, ...opts });
        const b = new Adam(pb, { lr: 1e-3, ...opts });
        const q = new ZeroGradSteps(b);
        const g = new Generator(2);
        for (let step = 0; step < 14; step++) {
          if (step === 9) for (const o of [a, b]) o.paramGroups[0].lr = 5e-4;
          // parameter i gets a gradient at some steps only: runs of zero-gradient steps between
          const with_ = [0, 1, 2].filter((i) => (step + i) % (i + 2) === 0 || step === 0);
          a.zeroGrad();
          b.zeroGrad();
          for (const i of with_) {
            const grad = Float32Array.from({ length: pa[i].size }, () => g.normal());
            pa[i].grad = Tensor.fromData(grad, pa[i].shape);
            pb[i].grad = Tensor.fromData(grad.slice(), pb[i].shape);
          }
          for (const p of pa) if (!p.grad && a.state.has(p)) p.grad = Tensor.fromData(new Float32Array(p.size), p.shape);
          a.step();
          q.step();
          if (step === 5) q.flush([pb[2]]); // a partial flush in the middle
        }
        assert.ok(q.pending > 0, 'steps were queued');
        q.flush();
        assert.is(q.pending, 0);
        pa.forEach((p, i) => {
          sameBits(pb[i].data, p.data, `param ${i}`);
          const sa = a.state.get(p)!;
          const sb = b.state.get(pb[i])!;
          assert.is(sb.step, sa.step);
          for (const k of ['exp_avg', 'exp_avg_sq', ...(opts.amsgrad ? ['max_exp_avg_sq'] : [])]) sameBits(sb[k] as Float32Array, sa[k] as Float32Array, `${k} ${i}`);
        });
      }
    } finally {
      setBackend(was);
    }
  });
}

test('a subclass with its own step() is not queued', () => {
  assert.ok(ZeroGradSteps.handles(new Adam(tensors(1))));
  assert.not.ok(ZeroGradSteps.handles(new PlainAdam(tensors(1))));
});

test('cflowFiberSteps: two image batches with queued steps = the plain path, bit for bit', () => {
  const run = (make: (p: Tensor[]) => Adam) => {
    const heads = new CFlowHeads({ channels: [8, 12], condition: 4, blocks: 2, clamp: 1.9, permuteSoft: false, generator: new Generator(3) });
    const opt = make(heads.parameters());
    const g = new Generator(4);
    const feats = () => [[2, 8, 4, 4], [2, 12, 2, 2]].map((s) => Tensor.fromData(Float32Array.from({ length: s.reduce((x, y) => x * y) }, () => g.normal()), s));
    for (let batch = 0; batch < 2; batch++) {
      cflowFiberSteps(heads.decoders.items, feats(), opt, { condition: 4, fiberBatch: 4, remainder: 'drop', zeroGrad: 'zeros', lr: 1e-3 }, { generator: g });
    }
    return { heads, opt };
  };
  const lazy = run((p) => new Adam(p, { lr: 1e-3 }));
  const plain = run((p) => new PlainAdam(p, { lr: 1e-3 }));
  const pp = plain.heads.parameters();
  lazy.heads.parameters().forEach((p, i) => {
    sameBits(p.data, pp[i].data, `parameter ${i}`);
    assert.is(lazy.opt.state.get(p)!.step, plain.opt.state.get(pp[i])!.step);
    sameBits(lazy.opt.state.get(p)!.exp_avg as Float32Array, plain.opt.state.get(pp[i])!.exp_avg as Float32Array, `exp_avg ${i}`);
  });
  // 8 + 2 fiber batches per image batch, every parameter stepping at each after its first gradient
  assert.is(lazy.opt.state.get(lazy.heads.decoders.items[1].parameters()[0])!.step, 2 + 10);
});

test.run();
