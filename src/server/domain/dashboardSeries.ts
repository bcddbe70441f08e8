import type { CapacitySplit } from './capacityShares';
import type { OnTimeRate } from './delivery';
import type { WonCommitmentDeal } from './revenueGoal';

/**
 * The series the home page charts (issue 14, shared metrics), from figures the stores read: plain
 * points, oldest first. Weeks are counted from the quarter's first day (UTC), so a quarter has 13
 * or 14 of them and each point names its week by that week's first day.
 */
export const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

export type Outcome = 'yes' | 'yes_but' | 'no';
const OUTCOMES: readonly Outcome[] = ['yes', 'yes_but', 'no'];

export interface TimedDecision {
  outcome: Outcome;
  decidedAt: number;
  msToDecision: number;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const round1 = (n: number) => Math.round(n * 10) / 10;

/** The first moment of every week from the quarter's start up to the week holding `now`. */
export function weekStarts(quarterStart: number, now: number): number[] {
  const weeks: number[] = [];
  for (let at = quarterStart; at <= now; at += WEEK_MS) weeks.push(at);
  return weeks;
}

function weekIndex(quarterStart: number, at: number): number {
  return Math.floor((at - quarterStart) / WEEK_MS);
}

/** Every week up to now and every outcome, zeros included (a bar chart shows the quiet weeks). */
export function decisionsPerWeek(decisions: readonly TimedDecision[], quarterStart: number, now: number): { week: string; outcome: Outcome; count: number }[] {
  const weeks = weekStarts(quarterStart, now);
  const counts = weeks.map(() => ({ yes: 0, yes_but: 0, no: 0 }));
  for (const d of decisions) {
    const bucket = counts[weekIndex(quarterStart, d.decidedAt)];
    if (bucket) bucket[d.outcome] += 1;
  }
  return weeks.flatMap((at, i) => OUTCOMES.map((outcome) => ({ week: day(at), outcome, count: counts[i]?.[outcome] ?? 0 })));
}

/** The middle value, or the mean of the two middle ones (as the dashboard's SQL median). */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Only the weeks with decisions: a week without any has no time to decision. */
export function medianHoursPerWeek(decisions: readonly TimedDecision[], quarterStart: number, now: number): { week: string; medianHours: number }[] {
  return weekStarts(quarterStart, now).flatMap((at, i) => {
    const m = median(decisions.filter((d) => weekIndex(quarterStart, d.decidedAt) === i).map((d) => d.msToDecision));
    return m === null ? [] : [{ week: day(at), medianHours: round1(m / HOUR_MS) }];
  });
}

/** Allocated weeks of the three shares and the customer share's promised weeks; nothing without capacity settings. */
export function capacityByShare(split: CapacitySplit | null, promisedWeeks: number): { share: 'customer' | 'maintenance' | 'product'; measure: 'allocated' | 'promised'; weeks: number }[] {
  if (split === null) return [];
  return [
    { share: 'customer', measure: 'allocated', weeks: split.customer.weeks },
    { share: 'customer', measure: 'promised', weeks: promisedWeeks },
    { share: 'maintenance', measure: 'allocated', weeks: split.maintenance.weeks },
    { share: 'product', measure: 'allocated', weeks: split.product.weeks },
  ];
}

export function onTimePerQuarter(rates: readonly OnTimeRate[]): { quarter: string; onTimePercent: number }[] {
  return rates.flatMap((r) => (r.rate === null ? [] : [{ quarter: r.quarter, onTimePercent: round1(r.rate * 100) }]));
}

/**
 * The approved and delivered amounts won by the end of each week up to now, added up, and the goal
 * as a flat line beside them when there is one.
 */
export function revenueAgainstGoal(
  wins: readonly WonCommitmentDeal[],
  goal: number | null,
  quarterStart: number,
  now: number,
): { week: string; series: 'approved' | 'delivered' | 'goal'; amount: number }[] {
  const approved = wins.filter((w) => w.approved);
  return weekStarts(quarterStart, now).flatMap((at) => {
    const upTo = approved.filter((w) => w.wonAt < at + WEEK_MS);
    const week = day(at);
    const sum = (list: readonly WonCommitmentDeal[]) => list.reduce((total, w) => total + w.amount, 0);
    return [
      { week, series: 'approved' as const, amount: sum(upTo) },
      { week, series: 'delivered' as const, amount: sum(upTo.filter((w) => w.delivered)) },
      ...(goal !== null ? [{ week, series: 'goal' as const, amount: goal }] : []),
    ];
  });
}
