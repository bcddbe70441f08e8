import { triadRoleLabels, triadRoles, triadSettings } from '../contract/api';

/** A saved Triad setting in words, for the settings change lines: "on: the product manager makes the call (tech lead 400; ...)". */
export function triadSettingsWords(value: unknown): string {
  const parsed = triadSettings.safeParse(value);
  if (!parsed.success) return JSON.stringify(value);
  const triad = parsed.data;
  if (!triad.enabled) return 'off';
  const members = triadRoles.map((role) => `${triadRoleLabels[role]} ${triad.members[role].join(', ') || 'none'}`).join('; ');
  return `on, the ${triadRoleLabels[triad.decisionMaker]} makes the call (${members})`;
}
