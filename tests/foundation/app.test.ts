import { join } from 'node:path';
import express from 'express';
import { createApp } from '../../src/server/http/app';
import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import { ManualClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { errorHandler, errorStatus } from '../../src/server/http/errorHandler';
import { DealgateError, type ErrorCode } from '../../src/server/shared/errors';
import { listen, tempDir, testConfig } from '../support/env';

describe('the HTTP app', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  function build() {
    const config = testConfig({ DATABASE_PATH: join(dir.path, 'db.sqlite') });
    const store = createSqliteStore(createDb(config.databasePath));
    const app = createApp({ config, store, clock: new ManualClock(), hubspot: staticHubSpotClients(config), gateway: createHubSpotGateway(staticHubSpotClients(config)), logger: silentLogger() });
    return { app, store };
  }

  it('answers liveness and readiness', async () => {
    const { app, store } = build();
    const server = await listen(app);
    try {
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${server.url}/readyz`);
      expect(await ready.json()).toEqual({ status: 'ready', database: 'ok' });
      await store.close();
      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ error: { code: 'not_ready', message: 'the database is not reachable' } });
    } finally {
      await server.close();
    }
  });

  it('answers unknown routes with a coded 404', async () => {
    const { app, store } = build();
    const server = await listen(app);
    try {
      const response = await fetch(`${server.url}/nope`, { method: 'POST' });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'no route for POST /nope' } });
      expect(response.headers.get('x-powered-by')).toBeNull();
    } finally {
      await server.close();
      await store.close();
    }
  });
});

describe('errorHandler', () => {
  async function respond(thrown: unknown) {
    const app = express();
    app.use(express.json({ limit: 10 }));
    app.post('/', () => {
      throw thrown;
    });
    app.use(errorHandler(silentLogger()));
    const server = await listen(app);
    try {
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return { status: response.status, body: (await response.json()) as unknown };
    } finally {
      await server.close();
    }
  }

  it.each(Object.entries(errorStatus))('maps %s to HTTP %d', async (code, status) => {
    const result = await respond(new DealgateError(code as ErrorCode, 'why', { field: 'x' }));
    expect(result).toEqual({ status, body: { error: { code, message: 'why', details: { field: 'x' } } } });
  });

  it('hides unexpected errors behind a 500 without their message', async () => {
    const result = await respond(new Error('secret internals'));
    expect(result.status).toBe(500);
    expect(JSON.stringify(result.body)).not.toContain('secret internals');
    expect(result.body).toEqual({ error: { code: 'internal', message: 'internal error; the details are in the service log' } });
  });

  it('maps body parser failures to 400 and 413', async () => {
    const app = express();
    app.use(express.json({ limit: 20 }));
    app.post('/', (_req, res) => {
      res.json({});
    });
    app.use(errorHandler(silentLogger()));
    const server = await listen(app);
    try {
      const bad = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: { code: 'invalid_request', message: 'the request body is not valid JSON' } });
      const big = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ padding: 'x'.repeat(100) }),
      });
      expect(big.status).toBe(413);
    } finally {
      await server.close();
    }
  });
});
