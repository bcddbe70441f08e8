import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A round-robin load balancer in front of several service instances, as a deployment puts one
 * before them (HubSpot calls one public URL for webhooks and card requests alike). Each request
 * goes to the next instance; an instance that refuses the connection (down, restarting) is skipped
 * for the next one, as a balancer's failed connect is retried elsewhere. A request whose instance
 * dies after it was sent is answered 502: the instance may or may not have acted on it, so the
 * caller (HubSpot) retries it, which is where duplicates come from.
 */
export interface LoadBalancer {
  url: string;
  /** The instances' base URLs, in round-robin order (set once they have ports). */
  setTargets: (urls: string[]) => void;
  /** Per instance: requests it answered (by status class), and connections it refused or lost. */
  stats: () => InstanceTraffic[];
  close: () => Promise<void>;
}

export interface InstanceTraffic {
  target: string;
  answered: Record<string, number>;
  refused: number;
  lost: number;
}

type Attempt = { answered: true } | { answered: false; sent: boolean };

function forward(target: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<Attempt> {
  return new Promise((resolve) => {
    const url = new URL(target);
    let sent = false;
    const upstream = httpRequest({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('end', () => resolve({ answered: true }));
      answer.on('error', () => {
        res.destroy();
        resolve({ answered: false, sent: true });
      });
    });
    upstream.on('socket', (socket) => socket.on('connect', () => (sent = true)));
    upstream.on('error', () => resolve({ answered: false, sent }));
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  });
}

export async function startLoadBalancer(): Promise<LoadBalancer> {
  let next = 0;
  let targets: string[] = [];
  let traffic: InstanceTraffic[] = [];

  async function route(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const first = next;
    next = (next + 1) % Math.max(1, targets.length);
    for (let i = 0; i < targets.length; i++) {
      const index = (first + i) % targets.length;
      const counts = traffic[index] as InstanceTraffic;
      const attempt = await forward(targets[index] as string, req, body, res);
      if (attempt.answered) {
        const status = `${Math.floor(res.statusCode / 100)}xx`;
        counts.answered[status] = (counts.answered[status] ?? 0) + 1;
        return;
      }
      if (attempt.sent) {
        counts.lost += 1;
        if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
        return;
      }
      counts.refused += 1;
    }
    if (!res.destroyed && !res.headersSent) res.writeHead(502).end();
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void route(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setTargets: (urls) => {
      targets = [...urls];
      traffic = urls.map((target) => ({ target, answered: {}, refused: 0, lost: 0 }));
      next = 0;
    },
    stats: () => traffic.map((t) => ({ ...t, answered: { ...t.answered } })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
