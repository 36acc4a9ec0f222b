// Runs fuzz cases in child processes (test/fuzz/child.ts), many per child, a few
// children at a time. A child that dies (signal or non-zero exit) is a finding: its last
// "B <i>" line names the case that killed it, and the batch resumes after that case.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const HANG_MS = 30_000;

export interface Finding {
  kind: 'ops' | 'addon';
  seed: number;
  index: number;
  what: string;
}
export interface Summary {
  cases: number;
  bothThrew: number;
  bothComputed: number;
  returned: number;
  threw: number;
  crashes: number;
  findings: Finding[];
  errors: Set<string>;
}

function runChild(kind: 'ops' | 'addon', seed: number, start: number, count: number): Promise<{ lines: string[]; code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', CHILD, kind, String(seed), String(start), String(count)], {
      env: { ...process.env, MEDIANOMALY_THREADS: process.env.MEDIANOMALY_THREADS ?? '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    // A case that makes no progress for HANG_MS is a finding (a hang), not a slow test:
    // the child is killed and the batch resumes after that case. Generous on purpose.
    let hung = false;
    let timer = setTimeout(kill, HANG_MS);
    function kill() {
      hung = true;
      c.kill('SIGKILL');
    }
    c.stdout.on('data', (d) => {
      out += d;
      clearTimeout(timer);
      timer = setTimeout(kill, HANG_MS);
    });
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ lines: out.split('\n'), code, signal: hung ? 'hang (no progress for 30 s)' : signal, stderr: err.slice(-600) });
    });
  });
}

/** Cases [0, total) of `kind` and `seed`, in batches of `batch`, `jobs` children at once. */
export async function fuzz(kind: 'ops' | 'addon', seed: number, total: number, batch: number, jobs: number, s?: Summary): Promise<Summary> {
  const sum: Summary = s ?? { cases: 0, bothThrew: 0, bothComputed: 0, returned: 0, threw: 0, crashes: 0, findings: [], errors: new Set() };
  const queue: [number, number][] = [];
  for (let a = 0; a < total; a += batch) queue.push([a, Math.min(batch, total - a)]);
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const [start, count] = job;
      const r = await runChild(kind, seed, start, count);
      let last = start - 1;
      for (const line of r.lines) {
        if (line.startsWith('B ')) last = Number(line.slice(2));
        else if (line.startsWith('M ')) sum.findings.push({ kind, ...(JSON.parse(line.slice(2)) as { seed: number; index: number; why: string; op: string }), what: line.slice(2) });
        else if (line.startsWith('S ')) {
          const t = JSON.parse(line.slice(2));
          sum.cases += t.cases;
          sum.bothThrew += t.bothThrew;
          sum.bothComputed += t.bothComputed;
          sum.returned += t.returned;
          sum.threw += t.threw;
          for (const e of t.errors) sum.errors.add(e);
        }
      }
      if (r.code !== 0 || r.signal) {
        sum.crashes++;
        sum.cases += last - start + 1;
        sum.findings.push({ kind, seed, index: last, what: `child died (${r.signal ?? `exit ${r.code}`}) in case ${last}: ${r.stderr}` });
        // Resume after the case that killed it; a child that died before its first case
        // (addon missing, a load error) would die again, so its batch is not retried.
        if (last >= start && last + 1 < start + count) queue.push([last + 1, start + count - last - 1]);
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return sum;
}
