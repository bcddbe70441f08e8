/**
 * Baseline for the webhook ingest benchmark: the least a receiver can do. A bare node:http
 * server that HMACs the body (v3 construction), compares in constant time, and inserts the whole
 * body as one row (SQLite, WAL, synchronous=NORMAL): no framework, no validation, no per-event rows.
 * Usage: node --import tsx bench/baselines/bareReceiver.ts PORT DB_PATH SECRET PUBLIC_BASE_URL
 */
import http from 'node:http';
import Database from 'better-sqlite3';
import { hasValidV3Signature } from './bareSignature';

const [portArg, dbPath, secret, publicBaseUrl] = process.argv.slice(2);
if (!portArg || !dbPath || !secret || !publicBaseUrl) {
  process.stderr.write('usage: bareReceiver PORT DB_PATH SECRET PUBLIC_BASE_URL\n');
  process.exit(2);
}
const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, body TEXT NOT NULL, received_at INTEGER NOT NULL)');
const insert = db.prepare('INSERT INTO batches (body, received_at) VALUES (?, ?)');

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!hasValidV3Signature(req, body, secret, publicBaseUrl)) {
      res.writeHead(401).end();
      return;
    }
    insert.run(body.toString('utf8'), Date.now());
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});
server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write(`ready ${portArg}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
