// Human-readable metrics for the terminal.
import type { RunMetrics } from '../harness/evaluate.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatMetrics(m: RunMetrics): string {
  const lines = [
    `image  AUROC ${pct(m.image.auroc)}  AP ${pct(m.image.ap)}  F1-max ${pct(m.image.f1max)} (oracle threshold ${m.image.f1maxThreshold.toPrecision(4)})`,
  ];
  if (m.pixel) {
    lines.push(
      `pixel  AUROC ${pct(m.pixel.auroc)}  AP ${pct(m.pixel.ap)}  ⌈Dice⌉ ${pct(m.pixel.bestDice)}${m.pixel.diceSize !== undefined && m.pixel.diceSize !== m.pixel.size ? ` (at ${m.pixel.diceSize} × ${m.pixel.diceSize})` : ''}  AUPRO(0.3) ${pct(m.pixel.aupro)}  at ${m.pixel.size} × ${m.pixel.size}`,
    );
  }
  lines.push(`test   ${m.counts.normal} normal + ${m.counts.abnormal} abnormal images`);
  return lines.join('\n');
}
