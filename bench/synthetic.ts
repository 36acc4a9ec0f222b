// Synthetic dataset generation speed: 1000 images at 64 × 64 per built-in dataset (half
// normal, half abnormal), as wall time and as this process's CPU time (the steadier figure
// on a shared machine). The figure goes in docs/synthetic.md. It also checks that the work
// measured was real: 1000 distinct, valid images.
//
//   node --import tsx bench/synthetic.ts [--count 1000] [--size 64]
import { renderItem, SYNTHETIC_NAMES } from '../src/data/synthetic/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`bench/synthetic: --${name} takes a positive integer, got ${process.argv[i + 1]}`);
  return v;
}

const count = arg('count', 1000);
const size = arg('size', 64);
const results: Record<string, { wallMs: number; cpuMs: number; msPerImage: number }> = {};
for (const name of SYNTHETIC_NAMES) {
  renderItem(name, 0, 'train', 0, size, 0.5); // warm up the JIT on one image
  const probe = Math.floor(size * size / 2) + Math.floor(size / 2);
  const seen = new Set<number>();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 0; k < count; k++) {
    const r = renderItem(name, 1, k % 2 ? 'test-abnormal' : 'train', k, size, 0.5);
    const v = r.image[probe]!;
    if (!Number.isFinite(v)) throw new Error(`bench/synthetic: ${name} image ${k} has a non-finite pixel`);
    if (r.mask && r.mask.length !== size * size) throw new Error(`bench/synthetic: ${name} mask ${k} has the wrong size`);
    seen.add(v);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (seen.size < 0.9 * count) throw new Error(`bench/synthetic: ${name} gave only ${seen.size} distinct images of ${count}`);
  results[name] = { wallMs, cpuMs, msPerImage: wallMs / count };
  console.log(`${name}: ${count} images at ${size}×${size} in ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (${(wallMs / count).toFixed(2)} ms per image)`);
}
console.log(JSON.stringify({ bench: 'synthetic', count, size, results }));
