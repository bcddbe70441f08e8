import { Router } from 'express';
import type { Store } from '../storage/store';

/** Liveness (the process answers) and readiness (the database answers and can write). */
export function healthRoutes(deps: { store: Store }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (!await deps.store.ping()) {
      res.status(503).json({ error: { code: 'not_ready', message: 'the database is not reachable' } });
      return;
    }
    // A database that reads but cannot write loses every webhook (500): not ready either.
    const write = await deps.store.writable();
    if (write.ok) {
      res.json({ status: 'ready', database: 'ok' });
    } else {
      res.status(503).json({
        error: { code: 'not_ready', message: `the database cannot write: ${write.message}`, details: { cause: write.code } },
      });
    }
  });
  return router;
}
