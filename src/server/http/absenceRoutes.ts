import type { Request, Router } from 'express';
import { z } from 'zod';
import { absenceBody } from '../../../extensions/contract/api';
import type { Caller, GateStoreContext } from '../application/context';
import { endAbsence, listAbsences, recordAbsence } from '../application/absenceService';
import { validate } from '../shared/validation';

const absenceParams = z.object({ absenceId: z.string().regex(/^[1-9]\d{0,14}$/, { message: 'must be an absence id (a positive whole number)' }).transform(Number) });

/** The absence routes of the card API (issue 15), behind its signature and account checks. */
export function absenceRoutes(router: Router, ctx: GateStoreContext, callerOf: (req: Request) => Caller): void {
  router.post('/absences', async (req, res) => {
    const caller = callerOf(req);
    res.status(201).json(await recordAbsence(ctx, caller, validate(absenceBody, req.body)));
  });

  router.get('/absences', async (req, res) => {
    res.json(await listAbsences(ctx, callerOf(req)));
  });

  router.delete('/absences/:absenceId', async (req, res) => {
    const caller = callerOf(req);
    const { absenceId } = validate(absenceParams, req.params, 'path');
    res.json(await endAbsence(ctx, caller, absenceId));
  });
}
