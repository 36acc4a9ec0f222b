// Worker processes for the queue tests: `medianomaly worker` as users start it.
import { type ChildProcess, spawn } from 'node:child_process';
import { currentBackend } from '../../src/engine/index.js';
import { NO_REDIS, startRedis, type TestRedis } from './redis.js';

export const BIN = new URL('../../bin/medianomaly.js', import.meta.url).pathname;

/** The environment of every CLI process of the queue tests: the test's backend on one thread, so local and queued runs compute alike. */
export const CLI_ENV = { ...process.env, FORCE_COLOR: '0', MEDIANOMALY_BACKEND: currentBackend(), MEDIANOMALY_THREADS: '1' };

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `medianomaly ARGS` in `cwd` to its end, asynchronously (not spawnSync: the workers'
 * pipes need this event loop meanwhile); onStderr sees the stderr text so far after each chunk.
 */
export function runCli(args: string[], cwd: string, onStderr?: (stderr: string) => void): Promise<CliResult> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: CLI_ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      onStderr?.(stderr);
    });
    child.on('close', (code: number | null) => res({ code, stdout, stderr }));
  });
}

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
    env: { ...CLI_ENV, ...env },
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

/** The Redis and the workers of one queue test file. */
export interface QueueFixture {
  /** Set once the file's tests start. */
  redis: TestRedis;
  /** Workers a test starts; every one is stopped after the file's tests. */
  workers: TestWorker[];
}

/**
 * Declares a queue test file's tests (`define`) around its own redis-server, started before
 * them and stopped, with every worker in `fx.workers`, after them. Where redis-server is
 * missing, one skipped test says why (CI installs it and sets MEDIANOMALY_REQUIRE_REDIS).
 */
export function withQueue(suite: typeof import('uvu').test, define: (fx: QueueFixture) => void): void {
  if (NO_REDIS) {
    suite.skip(NO_REDIS, () => {});
    return;
  }
  const fx = { workers: [] } as unknown as QueueFixture;
  suite.before(async () => {
    fx.redis = await startRedis();
  });
  suite.after(async () => {
    await Promise.all(fx.workers.map((w) => w.stop()));
    await fx.redis?.stop();
  });
  define(fx);
}
