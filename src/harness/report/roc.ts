// ROC curves as inline SVG: one chart per dataset, one line per method (every seed of a
// method drawn in its colour), the chance diagonal, and a legend with each method's AUROC.
import { escapeHtml } from './html-util.js';

/** Points (FPR, TPR) of the ROC curve, one per distinct score (ties enter as one step). */
export function rocPoints(scores: ArrayLike<number>, labels: ArrayLike<number>): Array<[number, number]> {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i] ? 1 : 0;
  const neg = n - pos;
  const pts: Array<[number, number]> = [[0, 0]];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; ) {
    const s = scores[order[k]];
    while (k < n && scores[order[k]] === s) {
      if (labels[order[k]]) tp++;
      else fp++;
      k++;
    }
    pts.push([neg ? fp / neg : 0, pos ? tp / pos : 0]);
  }
  return pts;
}

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface RocSeries {
  label: string;
  /** One curve per seed. */
  curves: Array<Array<[number, number]>>;
  /** Shown in the legend. */
  auroc: string;
}

/** An SVG chart of ROC curves (width × height pixels). */
export function rocSvg(title: string, series: readonly RocSeries[], width = 420, height = 380): string {
  const m = { left: 48, right: 12, top: 28, bottom: 42 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const X = (f: number) => (m.left + f * w).toFixed(1);
  const Y = (t: number) => (m.top + (1 - t) * h).toFixed(1);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="roc" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">`);
  parts.push(`<text x="${m.left}" y="18" class="title">${escapeHtml(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const f = i / 5;
    parts.push(`<line x1="${X(f)}" y1="${Y(0)}" x2="${X(f)}" y2="${Y(1)}" class="grid"/>`);
    parts.push(`<line x1="${X(0)}" y1="${Y(f)}" x2="${X(1)}" y2="${Y(f)}" class="grid"/>`);
    parts.push(`<text x="${X(f)}" y="${(m.top + h + 14).toFixed(1)}" class="tick" text-anchor="middle">${f.toFixed(1)}</text>`);
    parts.push(`<text x="${m.left - 6}" y="${(Number(Y(f)) + 4).toFixed(1)}" class="tick" text-anchor="end">${f.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" class="frame"/>`);
  parts.push(`<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" class="chance"/>`);
  parts.push(`<text x="${(m.left + w / 2).toFixed(1)}" y="${height - 8}" class="axis" text-anchor="middle">false positive rate</text>`);
  parts.push(`<text transform="translate(13 ${(m.top + h / 2).toFixed(1)}) rotate(-90)" class="axis" text-anchor="middle">true positive rate</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    for (const c of s.curves) {
      const d = c.map(([f, t], k) => `${k ? 'L' : 'M'}${X(f)} ${Y(t)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${s.curves.length > 1 ? 1.2 : 1.8}" stroke-opacity="0.9"/>`);
    }
  });
  // Legend in the lower right, where a useful ROC curve leaves room.
  const lx = m.left + w - 8;
  series.forEach((s, i) => {
    const y = m.top + h - 10 - (series.length - 1 - i) * 16;
    const color = PALETTE[i % PALETTE.length];
    parts.push(`<text x="${lx - 22}" y="${y + 4}" class="legend" text-anchor="end">${escapeHtml(s.label)}  ${escapeHtml(s.auroc)}</text>`);
    parts.push(`<line x1="${lx - 16}" y1="${y}" x2="${lx}" y2="${y}" stroke="${color}" stroke-width="3"/>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
