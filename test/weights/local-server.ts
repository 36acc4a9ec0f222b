// A local HTTP server on 127.0.0.1 for the weights-fetch tests (no network): each route serves
// a body, an error status, or a body cut short after announcing its full length.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Served {
  body?: Uint8Array;
  status?: number;
  /** Announce this Content-Length but send only `body` and cut the connection. */
  cutAt?: number;
}

export async function serve(routes: Record<string, Served>): Promise<{ base: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const r = routes[req.url ?? ''];
    if (!r) {
      res.writeHead(404, 'Not Found').end('no');
      return;
    }
    if (r.cutAt !== undefined) {
      res.writeHead(200, { 'content-length': String(r.body!.length) });
      res.write(r.body!.subarray(0, r.cutAt), () => res.socket?.destroy());
      return;
    }
    res.writeHead(r.status ?? 200, { 'content-length': String(r.body?.length ?? 0) }).end(r.body ?? new Uint8Array(0));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, requests, close: () => new Promise((ok) => server.close(() => ok())) };
}

export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}
