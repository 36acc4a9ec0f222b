// The queue tests' own Redis: redis-server on 127.0.0.1 at a free port, append-only file
// on (appendfsync always) in a temp folder, so a restart keeps every job. Tests skip with
// a message only when redis-server is not installed (CI installs it: .ci/run).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const REDIS_SERVER = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();

if (!REDIS_SERVER && process.env.MEDIANOMALY_REQUIRE_REDIS === '1') {
  throw new Error('redis-server is not installed, and MEDIANOMALY_REQUIRE_REDIS=1 (CI) says the queue tests must run: apt-get install redis-server');
}

/** Why the queue tests cannot run here, or null. */
export const NO_REDIS = REDIS_SERVER ? null : 'redis-server is not installed (apt-get install redis-server); the queue tests are skipped';

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
  /** Stops (SIGTERM: Redis flushes its append-only file) and starts it again on the same port and folder. */
  restart(downMs?: number): Promise<void>;
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => {});
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch {
      // not yet
    } finally {
      c.disconnect();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'medianomaly-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const launch = async () => {
    child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no'], { stdio: 'ignore' });
    await waitReady(port);
  };
  const kill = () =>
    new Promise<void>((res) => {
      const c = child;
      if (!c || c.exitCode !== null) return res();
      c.once('exit', () => res());
      c.kill('SIGTERM');
    });
  await launch();
  process.on('exit', () => {
    (child as ChildProcess | null)?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    dir,
    stop: kill,
    async restart(downMs = 1000) {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
  };
}
