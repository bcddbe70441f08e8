/**
 * Baseline for the gate-reaction benchmark: the least a reactor can do. A bare node:http server
 * that checks the v3 signature, answers 200, and for every stage change into the stage past the
 * gate sends one PATCH setting the stage back, at once: no durable inbox, no HubSpot read, no
 * note, no record of the attempt. Dealgate's reaction is compared with this, measured in the same run.
 * Usage: node --import tsx bench/baselines/bareReactor.ts PORT SECRET PUBLIC_BASE_URL API_BASE_URL TOKEN PAST_STAGE BACK_STAGE
 */
import http from 'node:http';
import { hasValidV3Signature } from './bareSignature';

const [portArg, secret, publicBaseUrl, apiBaseUrl, token, pastStage, backStage] = process.argv.slice(2);
if (!portArg || !secret || !publicBaseUrl || !apiBaseUrl || !token || !pastStage || !backStage) {
  process.stderr.write('usage: bareReactor PORT SECRET PUBLIC_BASE_URL API_BASE_URL TOKEN PAST_STAGE BACK_STAGE\n');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const api = new URL(apiBaseUrl);

function revert(dealId: string): void {
  const body = JSON.stringify({ properties: { dealstage: backStage } });
  const req = http.request(
    {
      agent,
      host: api.hostname,
      port: api.port,
      method: 'PATCH',
      path: `/crm/v3/objects/deals/${dealId}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    },
    (res) => res.resume(),
  );
  req.on('error', () => undefined);
  req.end(body);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!hasValidV3Signature(req, body, secret, publicBaseUrl)) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    const events = JSON.parse(body.toString('utf8')) as { objectId: number; propertyName?: string; propertyValue?: string; changeSource?: string }[];
    for (const e of events) {
      if (e.propertyName === 'dealstage' && e.propertyValue === pastStage && e.changeSource !== 'INTEGRATION') revert(String(e.objectId));
    }
  });
});
server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write(`ready ${portArg}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
