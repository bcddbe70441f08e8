/**
 * Second baseline for the webhook ingest benchmark: the durable work Dealgate must do, with no
 * framework. A bare node:http server that
 * - reads the body up to 1 MB (413 beyond), checks the v3 signature (same HMAC construction as
 *   bareSignature.ts, constant-time compare) and the timestamp's 5-minute window;
 * - bounds the nesting (a byte scan: no object or array deeper than 4 levels) and parses the JSON,
 *   checks each event has the fields Dealgate keys on (401/400 otherwise);
 * - commits the body to the same journal table (webhook_batches) before answering 200;
 * - behind the answer, in slices of 16 batches per transaction with the event loop free between two
 *   (as Dealgate's expansion), writes the same inbox rows: one per event into webhook_inbox
 *   (same schema and indexes: the migrations of src/server/storage, so the unique (portal, event
 *   key) index deduplicates and the pending index is maintained), 100 rows per INSERT OR IGNORE,
 *   and deletes the journaled batch.
 * Same SQLite settings (createDb: WAL, synchronous=NORMAL), same rows, same event key and payload.
 * What it leaves out is Dealgate's code: Express, the route's error handling, zod's fallback.
 * Usage: node --import tsx bench/baselines/durableReceiver.ts PORT DB_PATH SECRET PUBLIC_BASE_URL
 */
import http from 'node:http';
import type { Statement } from 'better-sqlite3';
import { createDb } from '../../src/server/storage/db';
import { hasValidV3Signature } from './bareSignature';

const [portArg, dbPath, secret, publicBaseUrl] = process.argv.slice(2);
if (!portArg || !dbPath || !secret || !publicBaseUrl) {
  process.stderr.write('usage: durableReceiver PORT DB_PATH SECRET PUBLIC_BASE_URL\n');
  process.exit(2);
}
const MAX_BODY = 1024 * 1024;
const WINDOW_MS = 5 * 60_000;
const SLICE = 16;
const db = createDb(dbPath);
const journal = db.prepare('INSERT INTO webhook_batches (received_at, body) VALUES (?, ?)');
const oldest = db.prepare<[number], { id: number; received_at: number; body: Buffer }>('SELECT id, received_at, body FROM webhook_batches ORDER BY id LIMIT ?');
const drop = db.prepare('DELETE FROM webhook_batches WHERE id = ?');
const inserts = new Map<number, Statement<unknown[]>>();
const insertOf = (rows: number) => {
  let s = inserts.get(rows);
  if (!s) {
    s = db.prepare<unknown[]>(
      `INSERT OR IGNORE INTO webhook_inbox (portal_id, event_key, object_id, subscription_type, property_name, property_value, change_source, source_id, occurred_at, payload, received_at) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    );
    inserts.set(rows, s);
  }
  return s;
};

interface Event {
  eventId?: number;
  portalId: number;
  objectId: number;
  subscriptionType: string;
  propertyName?: string;
  propertyValue?: string;
  changeSource?: string;
  sourceId?: string | number | null;
  occurredAt: number;
}

/** Parsed batches handed from the answer to the expansion (Dealgate keeps up to 64 the same way). */
const parsed = new Map<number, Event[]>();

function tooDeep(body: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function valid(batch: unknown): batch is Event[] {
  if (!Array.isArray(batch) || batch.length === 0 || batch.length > 1000) return false;
  for (const e of batch as Record<string, unknown>[]) {
    if (typeof e !== 'object' || e === null) return false;
    if (typeof e.portalId !== 'number' || typeof e.objectId !== 'number' || typeof e.subscriptionType !== 'string' || typeof e.occurredAt !== 'number') return false;
  }
  return true;
}

function rowsOf(events: Event[], receivedAt: number): number {
  let stored = 0;
  for (let start = 0; start < events.length; start += 100) {
    const rows = events.slice(start, start + 100);
    const params: unknown[] = [];
    for (const e of rows) {
      const what = `${e.subscriptionType}:${e.objectId}:${e.propertyName ?? ''}:${e.occurredAt}`;
      const key = e.eventId !== undefined ? `${e.eventId}:${what}` : `-:${what}:${e.propertyValue ?? ''}`;
      params.push(e.portalId, key, String(e.objectId), e.subscriptionType, e.propertyName ?? null, e.propertyValue ?? null, e.changeSource ?? null, e.sourceId == null ? null : String(e.sourceId), e.occurredAt, JSON.stringify(e), receivedAt);
    }
    stored += insertOf(rows.length).run(...params).changes;
  }
  return stored;
}

const expandSlice = db.transaction(() => {
  const batches = oldest.all(SLICE);
  for (const b of batches) {
    const events = parsed.get(b.id) ?? (JSON.parse(b.body.toString('utf8')) as Event[]);
    parsed.delete(b.id);
    rowsOf(events, b.received_at);
    drop.run(b.id);
  }
  return batches.length;
});
let scheduled = false;
function wake(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    if (expandSlice() === SLICE) wake();
  });
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  let length = 0;
  req.on('data', (c: Buffer) => {
    length += c.length;
    if (length > MAX_BODY) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const timestamp = Number(req.headers['x-hubspot-request-timestamp']);
    if (!Number.isFinite(timestamp) || Math.abs(Date.now() - timestamp) > WINDOW_MS || !hasValidV3Signature(req, body, secret as string, publicBaseUrl as string)) {
      res.writeHead(401).end();
      return;
    }
    if (tooDeep(body, 4)) {
      res.writeHead(400).end();
      return;
    }
    let batch: unknown;
    try {
      batch = JSON.parse(body.toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (!valid(batch)) {
      res.writeHead(400).end();
      return;
    }
    const id = Number(journal.run(Date.now(), body).lastInsertRowid);
    if (parsed.size < 64) parsed.set(id, batch);
    wake();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});
server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write(`ready ${portArg}\n`));
process.on('SIGTERM', () =>
  server.close(() => {
    while (expandSlice() > 0);
    db.close();
    process.exit(0);
  }),
);
