// Worker processes for the queue tests: `medianomaly worker` as users start it.
import { type ChildProcess, spawn } from 'node:child_process';
import { currentBackend } from '../../src/engine/index.js';

export const BIN = new URL('../../bin/medianomaly.js', import.meta.url).pathname;

export interface TestWorker {
  child: ChildProcess;
  log: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  /** Resolves once the worker is on the queue. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a worker process on the test's backend (so local and queued runs compute alike). */
export function startWorker(url: string, runs: string, extra: string[] = [], env: Record<string, string> = {}): TestWorker {
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--runs', runs, ...extra], {
    env: { ...process.env, FORCE_COLOR: '0', MEDIANOMALY_BACKEND: currentBackend(), MEDIANOMALY_THREADS: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  child.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  process.on('exit', () => child.kill('SIGKILL'));
  return {
    child,
    log: () => text,
    exited,
    async ready() {
      while (!/medianomaly: worker .* on /.test(text)) {
        if (child.exitCode !== null) throw new Error(`the worker exited: ${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
