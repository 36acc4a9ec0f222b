// The bench summary and the HTML report: ROC points, colours, outlines, the mean ± std
// table, and a whole bench folder (2 seeds of a tiny setting) rendered to one
// self-contained page.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBench } from '../../src/harness/bench.js';
import { drawOutline, jet, mapRange, overlay } from '../../src/harness/report/colormap.js';
import { writeReport } from '../../src/harness/report/index.js';
import { rocPoints, rocSvg } from '../../src/harness/report/roc.js';
import { formatCell, markdownTable, summarize, type RunRecord } from '../../src/harness/summary.js';
import { TINY, TINY_AE, tempDir } from './helpers.js';

const root = tempDir();

test('rocPoints: one point per distinct score, ties as one diagonal step', () => {
  const pts = rocPoints([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
  assert.equal(pts, [[0, 0], [0, 0.5], [0.5, 1], [1, 1]]);
  const svg = rocSvg('ROC — x', [{ label: 'ae', curves: [pts], auroc: '87.5' }]);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<path d="M48\.0 338\.0L/);
  assert.match(svg, /ae {2}87\.5/);
});

test('jet runs dark blue → cyan → yellow → dark red; overlays blend; outlines trace mask borders', () => {
  assert.equal(jet(0), [0, 0, 128]);
  assert.equal(jet(0.5), [128, 255, 128]);
  assert.equal(jet(1), [128, 0, 0]);
  assert.equal(jet(NaN), jet(0));
  const range = mapRange([Float32Array.from([0, 1, 2, 3])]);
  assert.is(range.lo, 0);
  const ov = overlay(new Uint8Array(12), Float32Array.from([0, 1, 2, 3]), { lo: 0, hi: 3 }, 1);
  assert.equal(Array.from(ov.subarray(9)), jet(1));
  // A 2 × 2 block in a 4 × 4 mask, drawn at scale 2: an 4 × 4 ring of outline pixels.
  const mask = new Uint8Array(16);
  for (const k of [5, 6, 9, 10]) mask[k] = 1;
  const rgb = new Uint8Array(8 * 8 * 3);
  drawOutline(rgb, 8, mask, 4, [255, 0, 0]);
  const lit: string[] = [];
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) if (rgb[(y * 8 + x) * 3]) lit.push(`${x},${y}`);
  assert.is(lit.length, 12);
  assert.ok(lit.includes('2,2') && lit.includes('5,5') && !lit.includes('3,3'));
});

test('summary: mean ± sample std over seeds in %, one value with one seed', () => {
  const rec = (method: string, seed: number, auroc: number, pixel?: number): RunRecord => ({
    method,
    dataset: 'd',
    seed,
    dir: `runs/${method}-d-s${seed}`,
    seconds: 1,
    metrics: {
      image: { auroc, ap: auroc, f1max: 0, f1maxThreshold: 0 },
      ...(pixel === undefined ? {} : { pixel: { auroc: 0, ap: pixel, bestDice: pixel, bestDiceThreshold: 0, aupro: 0, size: 8, diceThresholds: 200 } }),
      counts: { normal: 1, abnormal: 1 },
      oracle: [],
    },
  });
  const rows = summarize([rec('a', 0, 0.7, 0.1), rec('a', 1, 0.8, 0.3), rec('b', 0, 0.5)]);
  assert.is(rows.length, 2);
  assert.is(formatCell(rows[0].imageAuroc), '75.0 ± 7.1');
  assert.is(formatCell(rows[0].pixelAp), '20.0 ± 14.1');
  assert.is(formatCell(rows[1].imageAuroc), '50.0');
  assert.is(formatCell(rows[1].pixelAp), '—');
  const md = markdownTable(rows).split('\n');
  assert.match(md[0], /^\| method +\| +d AUROC \| +d AP \| +d AP_pix \| +d ⌈Dice⌉ \|$/);
  assert.match(md[1], /^\|-+\|-+:\|/);
  assert.match(md[2], /^\| a +\| +75\.0 ± 7\.1 \|/);
});

test('a bench folder: runs, results.md, bench.json, and a self-contained report.html', async () => {
  const dir = join(root, 'bench');
  const settings = { methods: ['ae'], datasets: [TINY], seeds: [0, 1], options: { epochs: 2, batchSize: 8, hidden: 64 }, description: 'tiny setting' };
  const started: string[] = [];
  const res = await runBench(dir, settings, { onRunStart: (r, reused) => started.push(`${r.dir}:${reused}`) });
  assert.equal(started, ['runs/ae-synth-brain-s0:false', 'runs/ae-synth-brain-s1:false']);
  assert.is(res.file.status, 'complete');
  assert.is(res.file.summary.length, 1);
  assert.is(res.file.summary[0].imageAuroc.n, 2);
  assert.ok(res.file.summary[0].pixelAp, 'synthetic masks give pixel AP');
  const md = readFileSync(join(dir, 'results.md'), 'utf8');
  assert.match(md, /tiny setting/);
  assert.match(md, /\| ae +\| +\d+\.\d ± \d+\.\d \|/);
  assert.equal(JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')).summary, res.file.summary);

  // Continuing the same bench keeps finished runs; other settings are refused.
  const again: string[] = [];
  await runBench(dir, settings, { onRunStart: (r, reused) => again.push(`${r.dir}:${reused}`) });
  assert.equal(again, ['runs/ae-synth-brain-s0:true', 'runs/ae-synth-brain-s1:true']);
  try {
    await runBench(dir, { ...settings, seeds: [0] });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /holds a benchmark with other settings/);
  }

  const path = await writeReport(dir, res.file);
  assert.ok(existsSync(path));
  const html = readFileSync(path, 'utf8');
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.match(html, /<\/html>\n$/);
  assert.match(html, /<table class="results">[\s\S]*<td title="AE \(ℓ2\)">ae<\/td>/);
  assert.match(html, /<svg [^>]*class="roc"/);
  assert.match(html, /<img src="data:image\/png;base64,[A-Za-z0-9+/=]{100,}"/);
  assert.match(html, /Kernel profile of one training step[\s\S]*<td>conv2d<\/td>/);
  assert.not.match(html, /<(link|script)\b/); // nothing to fetch: it opens from disk
  assert.not.match(html, /src="(?!data:)/);
  // Well-formed enough for a browser: every opened element of these kinds is closed.
  for (const tag of ['table', 'tr', 'svg', 'div', 'main', 'dl', 'h2', 'h3']) {
    const open = (html.match(new RegExp(`<${tag}[\\s>]`, 'g')) ?? []).length;
    const close = (html.match(new RegExp(`</${tag}>`, 'g')) ?? []).length;
    assert.is(open, close, `<${tag}> opened ${open} times, closed ${close}`);
  }
  // Two seeds: two ROC curves in the one chart, and 6 example tiles × 3 rows.
  assert.is((html.match(/<path d=/g) ?? []).length, 2);
  assert.is((html.match(/<img /g) ?? []).length, 18);
});

test.run();
