import express, { type Request, type Response } from 'express';
import { listen } from '../support/env';

/** A plain Express webhook receiver that records every request exactly as it arrived. */
export interface ReceivedRequest {
  /** Full URL as called (what the v3 signature covers). */
  url: string;
  headers: Request['headers'];
  rawBody: Buffer;
  events: { eventId: number; attemptNumber: number; [field: string]: unknown }[];
}

export type Answer = (request: ReceivedRequest, index: number) => number | 'hang' | Promise<number | 'hang'>;

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests being handled right now, and the most at once. */
  concurrency: { now: number; max: number };
  close(): Promise<void>;
}

export async function startReceiver(answer: Answer = () => 200, path = '/webhooks/hubspot'): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const concurrency = { now: 0, max: 0 };
  const app = express();
  let base = '';
  app.post(path, express.raw({ type: () => true }), async (req: Request, res: Response) => {
    concurrency.now += 1;
    concurrency.max = Math.max(concurrency.max, concurrency.now);
    try {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const received: ReceivedRequest = {
        url: base + req.originalUrl,
        headers: req.headers,
        rawBody,
        events: JSON.parse(rawBody.toString('utf8')) as ReceivedRequest['events'],
      };
      requests.push(received);
      const status = await answer(received, requests.length - 1);
      if (status === 'hang') return;
      res.status(status).end();
    } finally {
      concurrency.now -= 1;
    }
  });
  const server = await listen(app);
  base = server.url;
  return { url: server.url + path, requests, concurrency, close: server.close };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
