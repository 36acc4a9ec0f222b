// The --queue value: redis://[user:password@]HOST:PORT[/DB] (rediss:// for TLS), checked
// before anything connects, so a typo is an error naming the flag rather than a client
// that retries an unknown host for ever.
export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL without its password, for messages. */
  shown: string;
}

export function parseQueueUrl(value: unknown): QueueAddress {
  const usage = 'give it as redis://HOST:PORT[/DB], e.g. redis://127.0.0.1:6379/0';
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`--queue: no Redis URL given; ${usage}`);
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    throw new Error(`--queue: "${value}" is not a URL; ${usage}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue: "${value}" is not a Redis URL (scheme ${u.protocol.replace(':', '')}); ${usage}`);
  if (!u.hostname) throw new Error(`--queue: "${value}" names no host; ${usage}`);
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--queue: bad port in "${value}"; ${usage}`);
  const path = u.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!/^\d*$/.test(path) || !Number.isInteger(db) || db < 0 || db > 15) throw new Error(`--queue: the database in "${value}" must be a number 0–15 after the port (/DB); ${usage}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const shown = `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}/${db}`;
  return {
    host,
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
    shown,
  };
}
