import { Router } from 'express';
import type { Store } from '../storage/store';

/** Liveness (the process answers) and readiness (the database answers). */
export function healthRoutes(deps: { store: Store }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    if (deps.store.ping()) {
      res.json({ status: 'ready', database: 'ok' });
    } else {
      res.status(503).json({ error: { code: 'not_ready', message: 'the database is not reachable' } });
    }
  });
  return router;
}
