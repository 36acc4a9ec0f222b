// A long-running PyTorch script (`--mode serve`) for one thread count, spoken to in JSON
// lines: one request per line on stdin, one answer per line on stdout, in order. Its
// OMP_NUM_THREADS and OPENBLAS_NUM_THREADS are pinned to the thread count: Debian's torch
// runs some convolutions (the 1×1 ones, through oneDNN's GEMM) on OpenBLAS, whose own pool
// ignores torch.set_num_threads and would use every core in a "1 thread" run. The benches
// that compare against PyTorch (backbone, feature-methods) alternate these requests with
// their own calls so that machine load falls on both sides alike.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Debian's python3 (or the first on PATH) when it imports torch and torchvision, else null. */
export function torchPython(): string | null {
  const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  return spawnSync(py, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0 ? py : null;
}

export const NO_TORCH = 'no python3 with torch + torchvision (apt-get install python3-torch python3-torchvision)';

export class PinnedTorchChild<Answer> {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = '';
  private stderr = '';
  private readonly waiting: Array<{ resolve: (a: Answer) => void; reject: (e: Error) => void }> = [];

  /** Starts `scripts/<script>` with `py` in serve mode on `threads` threads. */
  constructor(py: string, script: string, readonly threads: number) {
    const path = fileURLToPath(new URL(`../scripts/${script}`, import.meta.url));
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
    this.child = spawn(py, [path, '--mode', 'serve', '--threads', String(threads)], { env });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.child.stdout.on('data', (d: string) => {
      this.buffer += d;
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        this.waiting.shift()?.resolve(JSON.parse(line) as Answer);
      }
    });
    this.child.on('exit', (code) => {
      const err = new Error(`${script} exited (${code}): ${this.stderr.trim().split('\n').pop() ?? ''}`);
      for (const w of this.waiting.splice(0)) w.reject(err);
    });
  }

  /** Sends one request; resolves with its answer line. */
  ask(request: unknown): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}
