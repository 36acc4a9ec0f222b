// Generation speed: logs how long 1000 images at 64 × 64 take for each dataset,
// as wall time and as this process's CPU time (the steadier figure on a shared
// machine). No timed assertion (machines differ); the figure goes in docs/synthetic.md.
// The assertions check that the work measured was real: 1000 distinct, valid images.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderItem, SYNTHETIC_NAMES } from '../../src/data/synthetic/index.js';

for (const name of SYNTHETIC_NAMES) {
  test(`${name}: 1000 images at 64 × 64 (half normal, half abnormal)`, () => {
    renderItem(name, 0, 'train', 0, 64, 0.5); // warm up the JIT on one image
    let checksum = 0;
    const firstPixels = new Set<number>();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let k = 0; k < 1000; k++) {
      const r = renderItem(name, 1, k % 2 ? 'test-abnormal' : 'train', k, 64, 0.5);
      checksum += r.image[2080]!;
      firstPixels.add(r.image[2080]!);
      if (r.mask) assert.ok(r.mask.length === 4096);
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(`  ${name}: 1000 images at 64×64 in ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (${(ms / 1000).toFixed(2)} ms per image)`);
    assert.ok(Number.isFinite(checksum));
    assert.ok(firstPixels.size > 900, 'images differ from one another');
  });
}

test.run();
