import type { DealFacts, Pipeline } from '../../src/server/domain/gatePolicy';
import { DealgateError } from '../../src/server/shared/errors';
import { isApproval, openReview, type Review } from '../../src/server/domain/reviewLifecycle';

export const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
export const HOUR = 60 * 60 * 1000;

/** HubSpot's default sales pipeline as Dealgate caches it (lost = closed with probability 0). */
export const salesPipeline: Pipeline = {
  id: 'default',
  label: 'Sales Pipeline',
  displayOrder: 0,
  stages: [
    { id: 'appointmentscheduled', label: 'Appointment Scheduled', displayOrder: 0, isClosed: false, isLost: false },
    { id: 'qualifiedtobuy', label: 'Qualified To Buy', displayOrder: 1, isClosed: false, isLost: false },
    { id: 'presentationscheduled', label: 'Presentation Scheduled', displayOrder: 2, isClosed: false, isLost: false },
    { id: 'decisionmakerboughtin', label: 'Decision Maker Bought-In', displayOrder: 3, isClosed: false, isLost: false },
    { id: 'contractsent', label: 'Contract Sent', displayOrder: 4, isClosed: false, isLost: false },
    { id: 'closedwon', label: 'Closed Won', displayOrder: 5, isClosed: true, isLost: false },
    { id: 'closedlost', label: 'Closed Lost', displayOrder: 6, isClosed: true, isLost: true },
  ],
};

export function facts(overrides: Partial<DealFacts> = {}): DealFacts {
  return {
    name: 'Acme',
    amount: 80_000,
    stage: 'decisionmakerboughtin',
    pipeline: 'default',
    commitment: true,
    commitmentSummary: 'SSO with Okta',
    effortWeeks: 4,
    ...overrides,
  };
}

let nextId = 1;

export function review(overrides: Partial<Review> = {}): Review {
  const base = openReview({
    dealId: 'd1',
    summary: 'SSO with Okta',
    effortWeeks: 4,
    neededBy: null,
    amount: 80_000,
    requestedBy: '100',
    at: T0,
    dueAt: T0 + 48 * HOUR,
  });
  const made = { ...base, id: nextId++, ...overrides };
  // An approval was given at the amount it was requested at, unless a test says otherwise.
  if (isApproval(made.status) && !('approvedAmount' in overrides)) made.approvedAmount = made.amountAtRequest;
  return made;
}

/** The DealgateError `work` throws (a test fails if it throws nothing or something else). */
export function failure(work: () => unknown): DealgateError {
  try {
    work();
  } catch (error) {
    if (error instanceof DealgateError) return error;
    throw error;
  }
  throw new Error('expected a DealgateError');
}
