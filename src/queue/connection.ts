// Connections to the queue's Redis. Two kinds: the long-lived ones of BullMQ's Queue and
// Worker, which retry for ever (a Redis restart must not end a worker or a sweep), and
// a first probe with a short timeout and no retries, so an unreachable server or a
// wrong URL is a clear error at once instead of a silent wait.
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { type QueueAddress, parseQueueUrl } from './url.js';

/** ioredis options for `a`: commands wait across a Redis restart (workers, watchers). */
export function redisOptions(a: QueueAddress): RedisOptions {
  return {
    host: a.host,
    port: a.port,
    db: a.db,
    ...(a.username ? { username: a.username } : {}),
    ...(a.password ? { password: a.password } : {}),
    ...(a.tls ? { tls: {} } : {}),
    // BullMQ requires null for blocking connections; the rest retry until Redis is back.
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

/** Connects once (3 s), pings, and disconnects; throws an error saying what to check. */
export async function probeRedis(url: string): Promise<QueueAddress> {
  const a = parseQueueUrl(url);
  const client = new Redis({ ...redisOptions(a), maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 3000, lazyConnect: true });
  // The socket's own error (ECONNREFUSED, ENOTFOUND, ...) says more than the client's "Connection is closed".
  let cause: Error | null = null;
  client.on('error', (e: Error) => (cause ??= e));
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`answered ${JSON.stringify(pong)} to PING`);
    const info = await client.info('server');
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
    if (major && major < 5) throw new Error(`it runs Redis ${/redis_version:([\d.]+)/.exec(info)?.[1]}; BullMQ needs Redis 5 or newer`);
    return a;
  } catch (e) {
    const why = (cause as Error | null)?.message ?? (e as Error).message;
    const hint = /WRONGPASS|NOAUTH|AUTH/i.test(why) ? 'check the user and password in the URL' : 'start it (e.g. redis-server, or apt-get install redis-server) or fix the host and port';
    throw new Error(`--queue: cannot use Redis at ${a.shown}: ${why}; ${hint}`);
  } finally {
    client.disconnect();
  }
}

/** A plain client for the sweep records and results (./sweeps.ts, ./results.ts). */
export function openClient(a: QueueAddress): Redis {
  const c = new Redis(redisOptions(a));
  c.on('error', () => {}); // ioredis reconnects; commands wait (offline queue)
  return c;
}

/** The same options for BullMQ's Queue and Worker (they make their own ioredis clients). */
export function bullConnection(a: QueueAddress): ConnectionOptions {
  const o: Record<string, unknown> = { ...redisOptions(a) };
  return o as ConnectionOptions;
}
