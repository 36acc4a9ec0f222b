// One measurement of bench/memory.ts, run in a fresh process so that its resident
// high-water mark (process.resourceUsage().maxRSS) covers this network's training steps
// and nothing a previous measurement left behind — the same footing as the PyTorch child
// (scripts/torch_memory_step.py, resource.getrusage).
//
//   node --import tsx bench/memory-child.ts <ae|dae> <steps>
// Prints one JSON line: { method, steps, baseMB (before the model), readyMB (model and
// data built), peakMB (the whole process's high-water mark) }.
import { interpolate, mseLoss, randn, rand, setBackend, backends, type Tensor } from '../src/engine/index.js';
import { UnifiedAE } from '../src/models/unified-ae.js';
import { UNet } from '../src/models/unet.js';
import { Adam } from '../src/nn/optim/adam.js';

const [method = 'ae', stepsArg = '2'] = process.argv.slice(2);
const steps = Number(stepsArg);
const mb = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
const cpu = backends().find((b) => b.name === 'cpu');
setBackend(cpu?.available ? 'cpu' : 'ts');
const base = process.memoryUsage().rss;

// The reference configurations: AE 64 px batch 64; DAE U-Net (width 64) 128 px batch 16.
const cfg = method === 'dae' ? { size: 128, batch: 16 } : { size: 64, batch: 64 };
const model = method === 'dae' ? new UNet({ seed: 0 }) : new UnifiedAE({ size: cfg.size, seed: 0 });
const opt = new Adam(model.parameters(), { lr: 1e-3 });
const x = rand([cfg.batch, 1, cfg.size, cfg.size], { seed: 1 }).mul(2).sub(1);
model.train();
const ready = process.memoryUsage().rss;

for (let i = 0; i < steps; i++) {
  opt.zeroGrad();
  let input = x;
  if (method === 'dae') {
    // The DAE's coarse noise (roll left out: it moves values, not memory).
    const n = interpolate(randn([cfg.batch, 1, 16, 16], { seed: 2 + i }).mul(0.2), { size: [cfg.size, cfg.size], mode: 'bilinear', alignCorners: true });
    input = x.add(n.sub(0.5).mul(2));
  }
  mseLoss(model.forward(input) as Tensor, x).backward();
  opt.step();
}
const peak = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ method, steps, baseMB: mb(base), readyMB: mb(ready), peakMB: mb(peak), backend: cpu?.available ? 'cpu' : 'ts' }));
