// Kernel profiler: counts, times and FLOP-counts every kernel dispatch while enabled,
// and exports a per-kernel table and a Chrome trace-event file (chrome://tracing,
// https://ui.perfetto.dev). When disabled no wrapper is installed, so dispatch costs
// nothing extra.
//
// MEDIANOMALY_PROFILE=1 enables it when the engine loads; at process exit the table goes
// to stderr and the trace (with the table under `medianomaly.report`) to
// MEDIANOMALY_PROFILE_OUT, or ./medianomaly-profile.json.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { currentBackend, kernelBackend, setKernelWrapper } from '../backend/registry.js';
import type { KernelName } from '../backend/types.js';
import { flopCounter } from './flops.js';

export interface ProfileRow {
  kernel: string;
  /** The backend that ran it (the chosen one, or ts where it fell back). */
  backend: string;
  calls: number;
  ms: number;
  flops: number;
  gflops: number;
}

interface TraceEvent {
  name: string;
  cat: string;
  ph: 'X' | 'M';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

/** Trace events kept at most (about 100 MB of JSON); later calls are still counted. */
const MAX_EVENTS = 500_000;

const stats = new Map<string, { calls: number; ms: number; flops: number }>();
let events: TraceEvent[] = [];
let droppedEvents = 0;
let enabled = false;

function wrap(name: KernelName, fn: (...args: never[]) => void): (...args: never[]) => void {
  const count = flopCounter[name] as ((...a: never[]) => number) | undefined;
  return (...args: never[]) => {
    const t0 = performance.now();
    fn(...args);
    const t1 = performance.now();
    const flops = count ? count(...args) : 0;
    let s = stats.get(name);
    if (!s) stats.set(name, (s = { calls: 0, ms: 0, flops: 0 }));
    s.calls++;
    s.ms += t1 - t0;
    s.flops += flops;
    if (events.length < MAX_EVENTS) {
      events.push({ name, cat: 'kernel', ph: 'X', ts: t0 * 1000, dur: (t1 - t0) * 1000, pid: process.pid, tid: 0, args: { flops } });
    } else droppedEvents++;
  };
}

export const profile = {
  enable(): void {
    enabled = true;
    setKernelWrapper(wrap);
  },
  disable(): void {
    enabled = false;
    setKernelWrapper(null);
  },
  isEnabled(): boolean {
    return enabled;
  },
  reset(): void {
    stats.clear();
    events = [];
    droppedEvents = 0;
  },
  /** Per-kernel totals, most time first. */
  report(): ProfileRow[] {
    return [...stats.entries()]
      .map(([kernel, s]) => ({
        kernel,
        backend: kernelBackend(kernel as KernelName),
        calls: s.calls,
        ms: s.ms,
        flops: s.flops,
        gflops: s.ms > 0 ? s.flops / (s.ms * 1e6) : 0,
      }))
      .sort((a, b) => b.ms - a.ms);
  },
  /** The report as an aligned text table. */
  table(): string {
    const rows = profile.report();
    const total = rows.reduce((a, r) => a + r.ms, 0);
    const head = ['kernel', 'backend', 'calls', 'ms', '%', 'GFLOP', 'GFLOP/s'];
    const body = rows.map((r) => [
      r.kernel,
      r.backend,
      String(r.calls),
      r.ms.toFixed(2),
      total > 0 ? ((100 * r.ms) / total).toFixed(1) : '0.0',
      (r.flops / 1e9).toFixed(3),
      r.gflops.toFixed(2),
    ]);
    body.push(['total', '', String(rows.reduce((a, r) => a + r.calls, 0)), total.toFixed(2), '100.0', (rows.reduce((a, r) => a + r.flops, 0) / 1e9).toFixed(3), '']);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    return [line(head), ...body.map(line)].join('\n');
  },
  /** Trace-event JSON (object form) for chrome://tracing or Perfetto. */
  chromeTrace(): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, string>; medianomaly: { report: ProfileRow[]; droppedEvents: number } } {
    const meta: TraceEvent = { name: 'process_name', cat: '__metadata', ph: 'M', ts: 0, pid: process.pid, tid: 0, args: { name: `medianomaly (${currentBackend()})` } };
    return {
      traceEvents: [meta, ...events],
      displayTimeUnit: 'ms',
      otherData: { backend: currentBackend(), droppedEvents: String(droppedEvents) },
      medianomaly: { report: profile.report(), droppedEvents },
    };
  },
  writeChromeTrace(path: string): void {
    writeFileSync(path, JSON.stringify(profile.chromeTrace()));
  },
};

if (process.env.MEDIANOMALY_PROFILE === '1' || process.env.MEDIANOMALY_PROFILE === 'true') {
  profile.enable();
  process.on('exit', () => {
    const out = process.env.MEDIANOMALY_PROFILE_OUT || 'medianomaly-profile.json';
    try {
      process.stderr.write(`medianomaly profile (${currentBackend()}):\n${profile.table()}\n`);
      profile.writeChromeTrace(out);
      process.stderr.write(`medianomaly profile: trace written to ${out}\n`);
    } catch (e) {
      process.stderr.write(`medianomaly profile: could not write ${out}: ${(e as Error).message}\n`);
    }
  });
}
