import fc from 'fast-check';
import {
  evaluateGate,
  gateStageOf,
  gateStatusOf,
  isPastGate,
  isStageMoveAllowed,
  mayAdvance,
  reviewRequirement,
  type GateSettings,
  type Pipeline,
} from '../../src/server/domain/gatePolicy';
import { facts, review, salesPipeline, T0, HOUR } from './fixtures';

const settings: GateSettings = { valueThreshold: 50_000, gateStageLabel: 'contract', gateStages: {} };

describe('review requirement', () => {
  it('is required with a commitment at or above the threshold, and says so with the numbers', () => {
    const at = reviewRequirement({ commitment: true, amount: 50_000 }, 50_000);
    expect(at).toEqual({
      commitmentPresent: true,
      reviewRequired: true,
      reason: 'Commitment present and amount 50,000 is at or above the 50,000 threshold',
      triggeredBy: 'amount',
    });
    expect(reviewRequirement({ commitment: true, amount: 80_000 }, 50_000).reviewRequired).toBe(true);
  });

  it('is not required just below the threshold, nor without a commitment however large the deal', () => {
    const below = reviewRequirement({ commitment: true, amount: 49_999.99 }, 50_000);
    expect(below.reviewRequired).toBe(false);
    expect(below.reason).toBe('Commitment present but amount 49,999.99 is below the 50,000 threshold');
    const none = reviewRequirement({ commitment: false, amount: 10_000_000 }, 50_000);
    expect(none).toEqual({ commitmentPresent: false, reviewRequired: false, reason: 'No custom technical commitment on the deal', triggeredBy: null });
  });

  it('counts a missing amount as 0 (required only when the threshold is 0)', () => {
    expect(reviewRequirement({ commitment: true, amount: null }, 50_000).reviewRequired).toBe(false);
    const zero = reviewRequirement({ commitment: true, amount: null }, 0);
    expect(zero.reviewRequired).toBe(true);
    expect(zero.reason).toContain('no amount (counted as 0)');
  });

  it('is monotonic in the amount: required at some amount means required at every larger amount', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 1e9, noNaN: true }), (a, b, threshold) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (reviewRequirement({ commitment: true, amount: low }, threshold).reviewRequired) {
          expect(reviewRequirement({ commitment: true, amount: high }, threshold).reviewRequired).toBe(true);
        }
        expect(reviewRequirement({ commitment: true, amount: high }, threshold).reviewRequired).toBe(high >= threshold);
      }),
    );
  });
});

describe('gate stage', () => {
  it('is the first stage (by display order) whose label contains the configured text, case-insensitively', () => {
    expect(gateStageOf(salesPipeline, settings)?.id).toBe('contractsent');
    expect(gateStageOf(salesPipeline, { gateStageLabel: '  CONTRACT ', gateStages: {} })?.id).toBe('contractsent');
    const shuffled: Pipeline = { ...salesPipeline, stages: [...salesPipeline.stages].reverse() };
    expect(gateStageOf(shuffled, { gateStageLabel: 'closed', gateStages: {} })?.id).toBe('closedwon');
  });

  it('is the explicit choice for the pipeline when the admin picked one of its stages', () => {
    expect(gateStageOf(salesPipeline, { gateStageLabel: 'contract', gateStages: { default: 'decisionmakerboughtin' } })?.id).toBe('decisionmakerboughtin');
  });

  it('falls back to the label rule when the explicit choice names a stage the pipeline no longer has', () => {
    expect(gateStageOf(salesPipeline, { gateStageLabel: 'contract', gateStages: { default: 'deleted-stage' } })?.id).toBe('contractsent');
  });

  it('ignores explicit choices made for other pipelines', () => {
    expect(gateStageOf(salesPipeline, { gateStageLabel: 'contract', gateStages: { other: 'qualifiedtobuy' } })?.id).toBe('contractsent');
  });

  it('is none when no label matches', () => {
    expect(gateStageOf(salesPipeline, { gateStageLabel: 'signature', gateStages: {} })).toBeNull();
  });
});

describe('past the gate', () => {
  const gate = salesPipeline.stages.find((s) => s.id === 'contractsent') ?? null;

  it('is any stage ordered after the gate stage', () => {
    expect(isPastGate(salesPipeline, gate, 'closedwon')).toBe(true);
  });

  it('is not the gate stage itself, nor any stage before it', () => {
    for (const id of ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent']) {
      expect(isPastGate(salesPipeline, gate, id)).toBe(false);
    }
  });

  it('excludes closed-lost stages: losing a deal is never blocked', () => {
    expect(isPastGate(salesPipeline, gate, 'closedlost')).toBe(false);
  });

  it('is false without a gate stage or for a stage the pipeline does not have', () => {
    expect(isPastGate(salesPipeline, null, 'closedwon')).toBe(false);
    expect(isPastGate(salesPipeline, gate, 'unknown')).toBe(false);
    expect(isPastGate(salesPipeline, gate, null)).toBe(false);
  });

  it('follows the explicit gate stage', () => {
    const earlier = gateStageOf(salesPipeline, { ...settings, gateStages: { default: 'decisionmakerboughtin' } });
    expect(isPastGate(salesPipeline, earlier, 'contractsent')).toBe(true);
  });
});

describe('gate status and advancing', () => {
  const required = reviewRequirement(facts(), 50_000);

  it('is not_required without a commitment, whatever the review says', () => {
    const f = facts({ commitment: false });
    expect(gateStatusOf(f, reviewRequirement(f, 50_000), review(), T0)).toBe('not_required');
  });

  it('is required with no review, and the deal may not advance', () => {
    expect(gateStatusOf(facts(), required, undefined, T0)).toBe('required');
    expect(mayAdvance(facts(), required, undefined)).toBe(false);
  });

  it('is pending while waiting, and overdue once the due time has passed even before the SLA worker marks it', () => {
    const r = review();
    expect(gateStatusOf(facts(), required, r, r.dueAt)).toBe('pending');
    expect(gateStatusOf(facts(), required, r, r.dueAt + 1)).toBe('overdue');
    expect(gateStatusOf(facts(), required, { ...r, status: 'overdue' }, r.dueAt + 1)).toBe('overdue');
    expect(mayAdvance(facts(), required, r)).toBe(false);
  });

  it.each(['approved', 'approved_with_conditions'] as const)('lets the deal advance when %s and the approval covers the commitment', (status) => {
    const r = review({ status });
    expect(gateStatusOf(facts(), required, r, T0)).toBe(status);
    expect(mayAdvance(facts(), required, r)).toBe(true);
  });

  it('keeps a rejected deal blocked', () => {
    const r = review({ status: 'rejected' });
    expect(gateStatusOf(facts(), required, r, T0)).toBe('rejected');
    expect(mayAdvance(facts(), required, r)).toBe(false);
  });

  it.each([
    ['the summary', { commitmentSummary: 'SSO with Okta and SCIM' }],
    ['the effort', { effortWeeks: 6 }],
  ])('no longer lets the deal advance on an approval once %s changed (required again)', (_what, change) => {
    const r = review({ status: 'approved' });
    const changed = facts(change);
    expect(mayAdvance(changed, reviewRequirement(changed, 50_000), r)).toBe(false);
    expect(gateStatusOf(changed, reviewRequirement(changed, 50_000), r, T0)).toBe('required');
  });

  it('does not count whitespace or line endings around the summary as a change', () => {
    const r = review({ status: 'approved', summary: 'line one\r\nline two' });
    const f = facts({ commitmentSummary: '  line one\nline two \n' });
    expect(mayAdvance(f, reviewRequirement(f, 50_000), r)).toBe(true);
  });

  it('lets the deal advance when review is not required, whatever the review says', () => {
    const small = facts({ amount: 1000 });
    expect(mayAdvance(small, reviewRequirement(small, 50_000), review({ status: 'rejected' }))).toBe(true);
  });

  it('shows required again after a withdrawn or superseded review', () => {
    expect(gateStatusOf(facts(), required, review({ status: 'withdrawn' }), T0)).toBe('required');
    expect(gateStatusOf(facts(), required, review({ status: 'superseded' }), T0)).toBe('required');
  });
});

describe('evaluateGate and stage moves', () => {
  it('puts the requirement, the numbers, the gate stage and the verdict together', () => {
    const evaluation = evaluateGate({ facts: facts({ stage: 'closedwon' }), pipeline: salesPipeline, settings, latest: undefined, now: T0 });
    expect(evaluation).toEqual({
      status: 'required',
      commitmentPresent: true,
      reviewRequired: true,
      reason: 'Commitment present and amount 80,000 is at or above the 50,000 threshold',
      threshold: 50_000,
      amount: 80_000,
      amountBasis: 'amount',
      amountTolerance: 0.1,
      gateStage: { id: 'contractsent', label: 'Contract Sent' },
      ungated: false,
      pastGate: true,
      mayAdvance: false,
      afterClose: 'revert',
      inWonStage: true,
      triggerMode: 'amount',
      effortThreshold: null,
      triggeredBy: 'amount',
      breakGlassHolds: false,
    });
  });

  it('knows no gate stage when the pipeline is not known', () => {
    const evaluation = evaluateGate({ facts: facts(), pipeline: undefined, settings, latest: undefined, now: T0 });
    expect(evaluation.gateStage).toBeNull();
    expect(evaluation.pastGate).toBe(false);
  });

  it('refuses a move past the gate without sign-off and allows every other move', () => {
    const input = { facts: facts(), pipeline: salesPipeline, settings, latest: undefined, now: T0 };
    expect(isStageMoveAllowed(input, 'closedwon')).toBe(false);
    expect(isStageMoveAllowed(input, 'contractsent')).toBe(true);
    expect(isStageMoveAllowed(input, 'qualifiedtobuy')).toBe(true);
    expect(isStageMoveAllowed(input, 'closedlost')).toBe(true);
    expect(isStageMoveAllowed({ ...input, latest: review({ status: 'approved' }) }, 'closedwon')).toBe(true);
    expect(isStageMoveAllowed({ ...input, latest: review({ status: 'pending', dueAt: T0 + HOUR }) }, 'closedwon')).toBe(false);
  });

  it('allows any move into a closed-lost stage, for any facts and review (property)', () => {
    const statuses = ['pending', 'overdue', 'approved', 'approved_with_conditions', 'rejected', 'withdrawn', 'superseded'] as const;
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.option(fc.double({ min: 0, max: 1e7, noNaN: true }), { nil: null }),
        fc.option(fc.constantFrom(...statuses), { nil: undefined }),
        fc.constantFrom(...salesPipeline.stages.map((s) => s.id)),
        (commitment, amount, status, gateStage) => {
          const input = {
            facts: facts({ commitment, amount }),
            pipeline: salesPipeline,
            settings: { ...settings, gateStages: { default: gateStage } },
            latest: status === undefined ? undefined : review({ status }),
            now: T0,
          };
          expect(isStageMoveAllowed(input, 'closedlost')).toBe(true);
        },
      ),
    );
  });
});

describe('the effort trigger (issue 15)', () => {
  const trigger = (triggerMode: 'amount' | 'effort' | 'either' | 'both', effortThreshold: number | null = 2) => ({ valueThreshold: 50_000, effortThreshold, triggerMode });
  const big = (effortWeeks: number | null) => facts({ amount: 80_000, effortWeeks });
  const small = (effortWeeks: number | null) => facts({ amount: 10_000, effortWeeks });

  it.each([
    // mode, amount over?, effort over?, required, triggeredBy
    ['amount', big(1), true, 'amount'],
    ['amount', small(6), false, null],
    ['effort', small(6), true, 'effort'],
    ['effort', big(1), false, null],
    ['either', big(1), true, 'amount'],
    ['either', small(6), true, 'effort'],
    ['either', big(6), true, 'both'],
    ['either', small(1), false, null],
    ['both', big(6), true, 'both'],
    ['both', big(1), false, null],
    ['both', small(6), false, null],
  ] as const)('under %s: required and which held', (mode, f, required, triggeredBy) => {
    const requirement = reviewRequirement(f, trigger(mode));
    expect(requirement.reviewRequired).toBe(required);
    expect(requirement.triggeredBy).toBe(triggeredBy);
  });

  it('says which measure held, in words the card shows', () => {
    expect(reviewRequirement(small(6), trigger('effort')).reason).toBe('Commitment present and effort 6 engineer-weeks is at or above the 2 engineer-weeks effort threshold');
    expect(reviewRequirement(big(1), trigger('either')).reason).toBe(
      'Commitment present and amount 80,000 is at or above the 50,000 threshold (effort 1 engineer-week is below the 2 engineer-weeks effort threshold); either suffices',
    );
    expect(reviewRequirement(big(1), trigger('both')).reason).toBe(
      'Commitment present but effort 1 engineer-week is below the 2 engineer-weeks effort threshold (amount 80,000 is at or above the 50,000 threshold); both must hold',
    );
    expect(reviewRequirement(big(6), trigger('both')).reason).toBe(
      'Commitment present and amount 80,000 is at or above the 50,000 threshold and effort 6 engineer-weeks is at or above the 2 engineer-weeks effort threshold; both must hold',
    );
  });

  it('counts a commitment nobody sized (no effort estimate) as meeting the effort threshold', () => {
    const unsized = reviewRequirement(small(null), trigger('effort'));
    expect(unsized.reviewRequired).toBe(true);
    expect(unsized.reason).toContain('no effort estimate');
  });

  it('keeps the amount-only rule when the settings say nothing of the effort (the default)', () => {
    expect(reviewRequirement(small(40), { valueThreshold: 50_000 }).reviewRequired).toBe(false);
    expect(reviewRequirement(small(40), { valueThreshold: 50_000, effortThreshold: 2 }).reviewRequired).toBe(false);
  });

  it('gives the card and the stage move the same verdict (one rule)', () => {
    const effortSettings: GateSettings = { ...settings, ...trigger('effort') };
    const input = { facts: small(6), pipeline: salesPipeline, settings: effortSettings, latest: undefined, now: T0 };
    const evaluation = evaluateGate({ ...input, facts: { ...input.facts, stage: 'closedwon' } });
    expect(evaluation).toMatchObject({ reviewRequired: true, mayAdvance: false, triggeredBy: 'effort', triggerMode: 'effort', effortThreshold: 2 });
    expect(isStageMoveAllowed(input, 'closedwon')).toBe(false);
    const amountOnly = { ...input, settings };
    expect(evaluateGate(amountOnly).mayAdvance).toBe(true);
    expect(isStageMoveAllowed(amountOnly, 'closedwon')).toBe(true);
  });

  it('is monotonic in the effort under every mode (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('amount', 'effort', 'either', 'both' as const), fc.double({ min: 0, max: 500, noNaN: true }), fc.double({ min: 0, max: 500, noNaN: true }), fc.boolean(), (mode, a, b, over) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const f = over ? big : small;
        if (reviewRequirement(f(low), trigger(mode)).reviewRequired) expect(reviewRequirement(f(high), trigger(mode)).reviewRequired).toBe(true);
      }),
    );
  });
});

describe('break-glass (issue 15)', () => {
  const input = (overrides: Partial<Parameters<typeof evaluateGate>[0]> = {}) => ({ facts: facts({ stage: 'closedwon' }), pipeline: salesPipeline, settings, latest: review(), now: T0 + HOUR, ...overrides });
  const open = { openedAt: T0, until: T0 + 72 * HOUR, closedAt: null };

  it('lets a deal that needs review past the gate while its box is open, and not after', () => {
    expect(evaluateGate(input()).mayAdvance).toBe(false);
    expect(evaluateGate(input({ breakGlass: open }))).toMatchObject({ mayAdvance: true, breakGlassHolds: true, status: 'pending' });
    expect(isStageMoveAllowed(input({ breakGlass: open }), 'closedwon')).toBe(true);
    expect(evaluateGate(input({ breakGlass: open, now: open.until })).mayAdvance).toBe(false);
    expect(isStageMoveAllowed(input({ breakGlass: open, now: open.until }), 'closedwon')).toBe(false);
    expect(evaluateGate(input({ breakGlass: { ...open, closedAt: T0 + 2 * HOUR } })).mayAdvance).toBe(false);
  });

  it('ends with a decision made in the box: a no blocks the deal again, a yes covers it itself', () => {
    const rejected = review({ status: 'rejected', closedAt: T0 + 2 * HOUR });
    expect(evaluateGate(input({ breakGlass: open, latest: rejected, now: T0 + 3 * HOUR })).mayAdvance).toBe(false);
    const approved = review({ status: 'approved', closedAt: T0 + 2 * HOUR });
    expect(evaluateGate(input({ breakGlass: open, latest: approved, now: T0 + 3 * HOUR })).breakGlassHolds).toBe(false);
    expect(evaluateGate(input({ breakGlass: open, latest: approved, now: T0 + 3 * HOUR })).mayAdvance).toBe(true);
  });
});
