import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from '../../src/engine/index.js';
import { backends, currentBackend, kernels, registerBackend, setBackend } from '../../src/backend/registry.js';
import { tsKernels } from '../../src/backend/ts/index.js';
import { cpuBackend } from '../../src/backend/native.js';

const root = new URL('../../', import.meta.url).pathname;

test('backends() lists cuda, cpu and ts; ts is always available', () => {
  const list = backends();
  assert.equal(list.map((b) => b.name), ['cuda', 'cpu', 'ts']);
  const ts = list.find((b) => b.name === 'ts')!;
  assert.ok(ts.available);
  assert.is(ts.reason, null);
  for (const b of list) if (!b.available) assert.type(b.reason, 'string');
});

test('setBackend: unknown and unavailable names throw clearly', () => {
  assert.throws(() => setBackend('tpu'), /setBackend: unknown backend 'tpu'; use one of cuda, cpu, ts/);
  if (!backends().find((b) => b.name === 'cuda')!.available) {
    assert.throws(() => setBackend('cuda'), /setBackend: backend 'cuda' is not available/);
  }
  setBackend('ts');
  assert.is(currentBackend(), 'ts');
});

test('MEDIANOMALY_BACKEND: an unknown name fails the first op with a clear error', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/engine/index.ts').then(E => E.zeros([2]).add(1))"], {
    cwd: root,
    env: { ...process.env, MEDIANOMALY_BACKEND: 'gpu' },
    encoding: 'utf8',
  });
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /MEDIANOMALY_BACKEND: unknown backend 'gpu'; use one of cuda, cpu, ts/);
});

test('with profiling off, dispatch goes straight to the kernel (no wrapper)', () => {
  setBackend('ts');
  E.profile.disable();
  assert.is(kernels().gemm, tsKernels.gemm);
  assert.is(kernels().conv2d, tsKernels.conv2d);
});

test('a backend lacking a kernel falls back to ts and says so once', () => {
  const calls: string[] = [];
  registerBackend({
    name: 'cpu',
    unavailableReason: () => null,
    kernels: {
      unary: (...args) => {
        calls.push('unary');
        tsKernels.unary(...args);
      },
    },
    info: () => ({ fake: true }),
  });
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stderr.write;
  try {
    setBackend('cpu');
    const a = E.tensor([1, 2]);
    E.exp(a);
    E.add(a, a);
    E.add(a, a);
    assert.equal(calls, ['unary']);
    const fallbacks = lines.filter((l) => l.includes("no 'binary' kernel"));
    assert.is(fallbacks.length, 1, lines.join(''));
    assert.ok(!lines.some((l) => l.includes("'unary'")));
    close(E.add(a, a).data, [2, 4]);
  } finally {
    process.stderr.write = write;
    registerBackend(cpuBackend);
    setBackend('ts');
  }
});

function close(a: ArrayLike<number>, b: number[]): void {
  assert.equal(Array.from(a), b);
}

test('profiler counts calls and FLOPs and exports a valid Chrome trace', () => {
  setBackend('ts');
  E.profile.reset();
  E.profile.enable();
  try {
    const x = E.randn([2, 3, 8, 8], { seed: 1 });
    const w = E.randn([4, 3, 3, 3], { seed: 2 });
    E.conv2d(x, w, null, { padding: 1 });
    E.conv2d(x, w, null, { padding: 1 });
    E.matmul(E.ones([5, 6]), E.ones([6, 7]));
  } finally {
    E.profile.disable();
  }
  const rows = E.profile.report();
  const conv = rows.find((r) => r.kernel === 'conv2d')!;
  assert.is(conv.calls, 2);
  assert.is(conv.flops, 2 * 2 * (2 * 4 * 8 * 8 * 3 * 3 * 3));
  assert.is(conv.backend, 'ts');
  const gemm = rows.find((r) => r.kernel === 'gemm')!;
  assert.is(gemm.calls, 1);
  assert.is(gemm.flops, 2 * 5 * 7 * 6);
  assert.ok(conv.ms >= 0 && Number.isFinite(conv.gflops));
  assert.match(E.profile.table(), /conv2d\s+ts\s+2/);
  const trace = E.profile.chromeTrace();
  const spans = trace.traceEvents.filter((e) => e.ph === 'X');
  assert.is(spans.filter((e) => e.name === 'conv2d' || e.name === 'gemm').length, 3);
  assert.is(spans.length, rows.reduce((a, r) => a + r.calls, 0), 'one span per call');
  for (const e of spans) {
    assert.type(e.name, 'string');
    assert.ok(e.ts >= 0 && e.dur! >= 0);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mn-prof-'));
  E.profile.writeChromeTrace(join(dir, 't.json'));
  const parsed = JSON.parse(readFileSync(join(dir, 't.json'), 'utf8'));
  assert.ok(Array.isArray(parsed.traceEvents));
  // Disabled: nothing more is counted.
  E.matmul(E.ones([2, 2]), E.ones([2, 2]));
  assert.is(E.profile.report().find((r) => r.kernel === 'gemm')!.calls, 1);
  E.profile.reset();
  assert.equal(E.profile.report(), []);
});

test('MEDIANOMALY_PROFILE=1 writes a report and a trace at exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mn-prof-'));
  const out = join(dir, 'trace.json');
  const stderr = execFileSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/engine/index.ts').then(E => E.matmul(E.ones([4, 4]), E.ones([4, 4])))"], {
    cwd: root,
    env: { ...process.env, MEDIANOMALY_PROFILE: '1', MEDIANOMALY_PROFILE_OUT: out, MEDIANOMALY_BACKEND: 'ts' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  void stderr;
  assert.ok(existsSync(out));
  const trace = JSON.parse(readFileSync(out, 'utf8'));
  assert.ok(trace.traceEvents.some((e: { name: string }) => e.name === 'gemm'));
  assert.is(trace.medianomaly.report.find((r: { kernel: string }) => r.kernel === 'gemm').flops, 128);
});

test.run();
