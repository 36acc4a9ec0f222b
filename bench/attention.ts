// Scaled dot-product attention (kernels attentionForward / attentionBackward) at the U-Net's
// attention sizes: the native kernels on 1 and 2 threads against the ts kernels and against
// PyTorch 1.13 (bmm, softmax, bmm and autograd) on the same sizes in the same run, as ratios.
//
//   npm run bench -- attention [--runs 5] [--no-torch]
import { spawnSync } from 'node:child_process';
import { cpuBackend, setThreads } from '../src/backend/native.js';
import { tsKernels } from '../src/backend/ts/index.js';
import type { AttentionParams, KernelTable } from '../src/backend/types.js';
import { Generator } from '../src/engine/index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const runs = arg('runs', 5);
const withTorch = !process.argv.includes('--no-torch');

function best(fn: () => void, n = runs): number {
  fn();
  let b = Infinity;
  for (let r = 0; r < n; r++) {
    const t0 = performance.now();
    fn();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

const TORCH = `
import math, sys, time, torch
torch.set_num_threads(int(sys.argv[1])); runs = int(sys.argv[2])
for spec in sys.argv[3:]:
    B, L, d = map(int, spec.split('x'))
    q, k, v = (torch.randn(B, L, d, requires_grad=True) for _ in range(3))
    g = torch.randn(B, L, d)
    def fwd():
        return torch.bmm(torch.softmax(torch.bmm(q, k.transpose(1, 2)) / math.sqrt(d), -1), v)
    def fb():
        torch.autograd.backward(fwd(), g); q.grad = k.grad = v.grad = None
    def best(fn):
        fn(); b = 1e9
        for _ in range(runs):
            t = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t)
        return b * 1e3
    with torch.no_grad():
        f = best(fwd)
    print(spec, f, best(fb))
`;

function torchTimes(threads: number, specs: string[]): Map<string, [number, number]> {
  const p = spawnSync('/usr/bin/python3', ['-c', TORCH, String(threads), String(runs), ...specs], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  const m = new Map<string, [number, number]>();
  if (p.status !== 0) {
    console.log(`PyTorch unavailable: ${(p.stderr || p.error?.message || '').trim().split('\n').pop()}`);
    return m;
  }
  for (const line of p.stdout.trim().split('\n')) {
    const [spec, f, fb] = line.split(' ');
    m.set(spec, [Number(f), Number(fb)]);
  }
  return m;
}

const sizes: Array<[number, number, number]> = [
  [8, 256, 64], // 16×16 tokens, 4 heads of 64 at batch 2
  [8, 1024, 32], // 32×32 tokens
  [4, 4096, 32], // 64×64 tokens
];
const reason = cpuBackend.unavailableReason();
if (reason) console.log(`cpu backend unavailable (${reason}): ts only`);
const native = cpuBackend.kernels as KernelTable;
const specs = sizes.map(([B, L, d]) => `${B}x${L}x${d}`);
const torch1 = withTorch ? torchTimes(1, specs) : new Map();
const torch2 = withTorch ? torchTimes(2, specs) : new Map();
const rows: string[][] = [['B·h×L×d', 'pass', 'ts ms', 'cpu 1t ms', 'cpu 2t ms', 'torch 1t ms', 'torch 2t ms', 'ts/cpu1', 'torch1/cpu1', 'torch2/cpu2']];
for (const [i, [B, L, d]] of sizes.entries()) {
  const g = new Generator(i + 1);
  const rnd = (n: number) => Float32Array.from({ length: n }, () => g.uniformFloat32() * 2 - 1);
  const p: AttentionParams = { batch: B, lq: L, lk: L, d, dv: d, scale: 1 / Math.sqrt(d) };
  const q = rnd(B * L * d), k = rnd(B * L * d), v = rnd(B * L * d), dout = rnd(B * L * d);
  const out = new Float32Array(B * L * d), w = new Float32Array(B * L * L);
  const dq = new Float32Array(B * L * d), dk = new Float32Array(B * L * d), dv = new Float32Array(B * L * d);
  const fwd = (t: KernelTable) => () => t.attentionForward(p, q, k, v, out, w);
  const fb = (t: KernelTable) => () => {
    t.attentionForward(p, q, k, v, out, w);
    t.attentionBackward(p, q, k, v, w, dout, dq, dk, dv);
  };
  const small = B * L * L <= 1 << 23;
  const ts = small ? [best(fwd(tsKernels), 1), best(fb(tsKernels), 1)] : [NaN, NaN];
  const c1 = reason ? [NaN, NaN] : (setThreads(1), [best(fwd(native)), best(fb(native))]);
  const c2 = reason ? [NaN, NaN] : (setThreads(2), [best(fwd(native)), best(fb(native))]);
  const spec = specs[i];
  const t1 = torch1.get(spec) ?? [NaN, NaN];
  const t2 = torch2.get(spec) ?? [NaN, NaN];
  for (const j of [0, 1]) {
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
    const r = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) + '×' : '—');
    rows.push([spec, j ? 'fwd+bwd' : 'fwd', f(ts[j]), f(c1[j]), f(c2[j]), f(t1[j]), f(t2[j]), r(ts[j], c1[j]), r(t1[j], c1[j]), r(t2[j], c2[j])]);
  }
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((x, c) => x.padStart(widths[c])).join('  '));
