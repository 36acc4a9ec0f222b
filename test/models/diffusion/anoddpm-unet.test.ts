// AnoDDPM's U-Net (diffusion spec §2.1) against the PyTorch port of
// scripts/make-anoddpm-unet-fixtures.py: the default nets' parameter counts (counted from the
// build plan, nothing allocated), the reference's state-dict names and shapes, ε̂ = 0 exactly
// while untrained, and one training step of a mini net (S 16, C 64, mults (1, 2, 2), 1 res
// block, 2-head attention at 4×4) with every tensor hash-filled, zero-init layers included:
// ε̂, the loss and every parameter's gradient; then the 1-head eval quirk. On the ts and cpu
// backends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backends, currentBackend, Generator, mseLoss, noGrad, randn, setBackend, Tensor } from '../../../src/engine/index.js';
import { AnoDDPMUNet, anoddpmUNetParameterCount, planAnoDDPMUNet, type AnoDDPMUNetOptions } from '../../../src/models/diffusion/anoddpm-unet.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors-format.js';
import { fillModule } from '../backbones/fill.js';
import { closeToScale } from '../../float32-tolerance.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'diffusion');
const index = JSON.parse(readFileSync(join(FIX, 'anoddpm-unet.json'), 'utf8'));
const fixture = readSafetensors(join(FIX, 'anoddpm-unet.safetensors'));
const BACKENDS = backends().filter((b) => b.available).map((b) => b.name).filter((n) => n === 'ts' || n === 'cpu');
const MINI = index.mini as Omit<AnoDDPMUNetOptions, 'generator'>;
/** A cheaper net (spec §6.4's AnoDDPM-mini at 32 px, 2 heads) for the checks without a fixture. */
const SMALL = { size: 32, baseChannels: 32, channelMults: [1, 2, 2], numResBlocks: 1, attentionResolutions: [8], heads: 2 };

function want(name: string): Float32Array {
  const t = fixture.tensors.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return toFloat32(t);
}

function onBackends(name: string, fn: () => void): void {
  for (const b of BACKENDS) {
    test(`${name} [${b}]`, () => {
      const previous = currentBackend();
      setBackend(b);
      try {
        fn();
      } finally {
        setBackend(previous);
      }
    });
  }
}

test('parameter counts of the default nets (C 128) equal PyTorch\'s, counted without building them', () => {
  const counts = index.parameterCounts as Record<string, number>;
  for (const s of [64, 128, 256]) assert.is(anoddpmUNetParameterCount({ size: s }), counts[String(s)], `S ${s}`);
  // The spec's rounded figures.
  assert.equal([64, 128, 256].map((s) => (anoddpmUNetParameterCount({ size: s }) / 1e6).toFixed(2)), ['96.87', '99.94', '131.65']);
  // Spec §6.4's AnoDDPM-mini: 1.26 M.
  assert.is((anoddpmUNetParameterCount(SMALL) / 1e6).toFixed(2), '1.26');
  // Heads change the function, not the parameters.
  assert.is(anoddpmUNetParameterCount({ size: 128, headChannels: 64 }), counts['128']);
});

test('the mini net: the static count is the allocated one; names, shapes and order are the reference\'s', () => {
  const net = new AnoDDPMUNet({ ...MINI, generator: new Generator(1) });
  assert.is(net.numParameters(), index.parameterCounts.mini);
  assert.is(anoddpmUNetParameterCount(MINI), index.parameterCounts.mini);
  const ours = net.stateEntries().map((e) => [e.name, [...e.tensor.shape]]);
  assert.equal(ours, index.stateDict);
});

test('block layout at S 128 (spec §2.1 table): attention at 32², 16², 8² and in the middle; 15 up stages', () => {
  const plan = planAnoDDPMUNet({ size: 128 });
  const attn = (stages: typeof plan.down) => stages.map((s) => s.filter((l) => l.kind === 'attn').map((l) => (l as { channels: number }).channels)).flat();
  assert.equal(attn(plan.down), [256, 256, 384, 384, 512, 512]);
  assert.equal(attn(plan.up), [512, 512, 512, 384, 384, 384, 256, 256, 256]);
  assert.is(plan.up.length, 15);
  const firstUp = plan.up[0][0] as { inChannels: number; outChannels: number };
  assert.equal([firstUp.inChannels, firstUp.outChannels], [1024, 512]);
  const lastUp = plan.up.at(-1)![0] as { inChannels: number; outChannels: number };
  assert.equal([lastUp.inChannels, lastUp.outChannels], [256, 128]);
});

onBackends('untrained: ε̂ is exactly 0 in training and eval mode', () => {
  const net = new AnoDDPMUNet({ ...SMALL, generator: new Generator(3) });
  assert.is(net.numParameters(), anoddpmUNetParameterCount(SMALL));
  const x = randn([2, 1, 32, 32], { seed: 4 });
  const t = new Float32Array([0, 999]);
  const y = net.forward(x, t);
  assert.equal(y.shape, [2, 1, 32, 32]);
  assert.ok(y.data.every((v) => v === 0));
  net.eval();
  assert.ok(noGrad(() => net.forward(x, t)).data.every((v) => v === 0));
});

function filledMini(): AnoDDPMUNet {
  const net = new AnoDDPMUNet({ ...MINI, generator: new Generator(0) });
  fillModule(net);
  return net;
}

const x = () => Tensor.fromData(want('x'), [index.batch, 1, MINI.size, MINI.size]);
const t = () => want('t');

onBackends('one training step of the mini net against PyTorch: ε̂, loss and every gradient', () => {
  const net = filledMini();
  const noise = Tensor.fromData(want('noise'), [index.batch, 1, MINI.size, MINI.size]);
  const eps = net.forward(x(), t());
  closeToScale(eps.data, want('eps'), 'ε̂', 1e-4);
  const loss = mseLoss(eps, noise);
  assert.ok(Math.abs(loss.item() - index.loss) <= 1e-5 * index.loss, `loss ${loss.item()} vs ${index.loss}`);
  loss.backward();
  const n = index.samples as number;
  // An absolute floor relative to the largest gradient entry of the whole net, for entries
  // that are rounding noise in both frameworks.
  const floor = 1e-5 * Math.max(...net.namedParameters().map(([name]) => want(`s.${name}`)[2]));
  let checked = 0;
  for (const [name, p] of net.namedParameters()) {
    const g = p.grad!.data;
    const [sum, sumsq, absmax] = want(`s.${name}`);
    const m = Math.min(g.length, n);
    const idx = Array.from({ length: m }, (_, k) => (m === 1 ? 0 : Math.round((k * (g.length - 1)) / (m - 1))));
    // Sampled entries against the gradient's own largest entry.
    closeToScale(
      idx.map((i) => g[i]),
      want(`g.${name}`),
      `${name} sampled gradient`,
      0,
      2e-4 * absmax + floor,
    );
    let s = 0;
    let s2 = 0;
    let mx = 0;
    for (let i = 0; i < g.length; i++) {
      s += g[i];
      s2 += g[i] * g[i];
      mx = Math.max(mx, Math.abs(g[i]));
    }
    // Σg against √(n·Σg²) (a bound on Σ|g|), Σg² and max relative.
    assert.ok(Math.abs(s - sum) <= 2e-4 * Math.sqrt(g.length * sumsq) + floor * Math.sqrt(g.length), `${name}: Σg ${s} vs ${sum}`);
    assert.ok(Math.abs(s2 - sumsq) <= 5e-4 * sumsq + g.length * floor * floor, `${name}: Σg² ${s2} vs ${sumsq}`);
    assert.ok(Math.abs(mx - absmax) <= 2e-4 * absmax + floor, `${name}: max|g| ${mx} vs ${absmax}`);
    checked++;
  }
  assert.is(checked, index.stateDict.length);
});

onBackends('evalHeads 1 (the reference\'s detection.py quirk): eval mode runs 1 head, training mode still 2', () => {
  const net = filledMini();
  net.setEvalHeads(1).eval();
  const y1 = noGrad(() => net.forward(x(), t()));
  closeToScale(y1.data, want('eps_eval1'), 'ε̂ with 1 head', 1e-4);
  net.train();
  const y2 = noGrad(() => net.forward(x(), t()));
  closeToScale(y2.data, want('eps'), 'ε̂ with 2 heads', 1e-4);
  // The option at construction does the same.
  const viaOption = new AnoDDPMUNet({ ...SMALL, evalHeads: 1, generator: new Generator(0) });
  assert.ok(viaOption.attentionBlocks().every((b) => b.heads === 2 && b.evalHeads === 1));
});

test('bad options and inputs are named', () => {
  const g = new Generator(0);
  assert.throws(() => planAnoDDPMUNet({ size: 48 }), /no default channelMults for size 48/);
  assert.throws(() => planAnoDDPMUNet({ size: 32, baseChannels: 16, channelMults: [1, 2] }), /multiple of 32/);
  assert.throws(() => planAnoDDPMUNet({ ...MINI, heads: 3 }), /heads must be a positive integer dividing/);
  assert.throws(() => planAnoDDPMUNet({ ...MINI, headChannels: 48 }), /not divisible by headChannels 48/);
  assert.throws(() => planAnoDDPMUNet({ ...MINI, evalHeads: 5 }), /evalHeads/);
  assert.throws(() => planAnoDDPMUNet({ ...MINI, dropout: 1 }), /dropout/);
  assert.throws(() => new AnoDDPMUNet({ ...MINI } as AnoDDPMUNetOptions), /generator is required/);
  const net = new AnoDDPMUNet({ ...SMALL, generator: g });
  assert.throws(() => net.forward(Tensor.empty([1, 2, 32, 32]), new Float32Array(1)), /expected input \[B, 1, H, W\]/);
  assert.throws(() => net.forward(Tensor.empty([1, 1, 30, 30]), new Float32Array(1)), /multiples of 4/);
  assert.throws(() => net.forward(Tensor.empty([2, 1, 32, 32]), new Float32Array(1)), /one timestep per image \(2\)/);
});

test.run();
