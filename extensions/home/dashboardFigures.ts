import type { DashboardResponse } from '../contract/api';

/** The home page's headline figures, worded for people, from the dashboard the service computed. */
export interface DashboardFigures {
  waiting: number;
  overdue: number;
  decisions: number;
  /** "3 yes, 1 yes-but, 2 no" */
  outcomes: string;
  /** "5.5 h", or "none yet" */
  medianTime: string;
  /** "83%", or "none yet" */
  slaCompliance: string;
}

export function formatHours(hours: number): string {
  if (hours >= 48) return `${Math.round((hours / 24) * 10) / 10} d`;
  return `${Math.round(hours * 10) / 10} h`;
}

export function dashboardFigures(d: DashboardResponse): DashboardFigures {
  const { yes, yes_but: yesBut, no } = d.decisionsThisQuarter;
  return {
    waiting: d.queue.length,
    overdue: d.overdueCount,
    decisions: d.decisionsTotal,
    outcomes: `${yes} yes, ${yesBut} yes-but, ${no} no`,
    medianTime: d.medianHoursToDecision === null ? 'none yet' : formatHours(d.medianHoursToDecision),
    slaCompliance: d.slaCompliance === null ? 'none yet' : `${Math.round(d.slaCompliance * 100)}%`,
  };
}
