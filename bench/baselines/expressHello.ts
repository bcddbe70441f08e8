/**
 * Context baseline: Express 5 answering a small JSON body, nothing else. Ratios against it show
 * what Dealgate's own work costs on top of the framework, measured in the same run.
 * Usage: node --import tsx bench/baselines/expressHello.ts PORT
 */
import express from 'express';

const port = Number(process.argv[2]);
const app = express();
app.disable('x-powered-by');
app.all('/{*rest}', (_req, res) => {
  res.json({ ok: true });
});
const server = app.listen(port, '127.0.0.1', () => process.stdout.write(`ready ${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
