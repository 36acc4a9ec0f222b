// Peak resident memory of training steps, ours vs PyTorch, in one run:
//   npm run bench -- memory [ae,dae] [steps]
// Each measurement is a fresh child process (bench/memory-child.ts for ours,
// scripts/torch_memory_step.py for PyTorch's, 1 thread each), so every high-water mark
// covers one runtime, one network and its steps; the ratio ours / PyTorch is the figure
// (target ≤ 1). The runtimes' own baselines (Node + the addon, Python + torch) are printed
// too, since they are part of either peak.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Peak {
  baseMB: number;
  readyMB: number;
  peakMB: number;
}

function parse(r: ReturnType<typeof spawnSync>, who: string): Peak | string {
  if (r.status !== 0) return `${who} failed: ${String(r.stderr).trim().split('\n').pop()}`;
  return JSON.parse(String(r.stdout).trim().split('\n').pop()!) as Peak;
}

function ours(method: string, steps: number): Peak | string {
  const child = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
  const env = { ...process.env, MEDIANOMALY_THREADS: '1' };
  return parse(spawnSync(process.execPath, ['--import', 'tsx', child, method, String(steps)], { encoding: 'utf8', env }), 'memory-child');
}

function torch(method: string, steps: number): Peak | string {
  const script = fileURLToPath(new URL('../scripts/torch_memory_step.py', import.meta.url));
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  if (spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) return `${python} has no torch (apt-get install python3-torch)`;
  return parse(spawnSync(python, [script, '--method', method, '--steps', String(steps)], { encoding: 'utf8' }), 'torch_memory_step.py');
}

export function benchMemory(methods = ['ae', 'dae'], steps = 2): void {
  console.log(`\nPeak RSS of ${steps} training steps (fresh process each, 1 thread; AE 64 px batch 64, DAE 128 px batch 16)\n`);
  console.log('| method | ours peak MB (base) | PyTorch peak MB (base) | ours / PyTorch |');
  console.log('|---|---:|---:|---:|');
  for (const m of methods) {
    const o = ours(m, steps);
    const t = torch(m, steps);
    const cell = (p: Peak | string) => (typeof p === 'string' ? `— (${p})` : `${p.peakMB.toFixed(0)} (${p.baseMB.toFixed(0)})`);
    const ratio = typeof o === 'string' || typeof t === 'string' ? '—' : `${(o.peakMB / t.peakMB).toFixed(2)}×`;
    console.log(`| ${m} | ${cell(o)} | ${cell(t)} | ${ratio} |`);
  }
}
