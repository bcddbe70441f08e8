import { triadRoles, type Settings, type TriadRole } from '../contract/api';

/** The Triad block of the settings form: on or off, each role's members as comma-separated ids, the role that makes the call. */
export interface TriadDraft {
  enabled: boolean;
  members: Record<TriadRole, string>;
  decisionMaker: TriadRole;
}

export function triadDraftOf(triad: Settings['triad']): TriadDraft {
  return {
    enabled: triad?.enabled ?? false,
    members: {
      tech_lead: (triad?.members.tech_lead ?? []).join(', '),
      product_manager: (triad?.members.product_manager ?? []).join(', '),
      product_marketing: (triad?.members.product_marketing ?? []).join(', '),
    },
    decisionMaker: triad?.decisionMaker ?? 'product_manager',
  };
}

/**
 * What the draft sends; the API's schema checks it (an enabled Triad needs a decision maker member).
 * Off with nobody named is no Triad at all (undefined): saving a page that never used it records
 * no change of it.
 */
export function triadCandidateOf(draft: TriadDraft, idList: (text: string) => string[]): Record<string, unknown> | undefined {
  const members: Record<string, string[]> = {};
  for (const role of triadRoles) members[role] = idList(draft.members[role]);
  if (!draft.enabled && Object.values(members).every((ids) => ids.length === 0) && draft.decisionMaker === 'product_manager') return undefined;
  return { enabled: draft.enabled, members, decisionMaker: draft.decisionMaker };
}

/** The form field of an issue under `triad`: "triad.members.tech_lead.1" belongs to the tech lead's field. */
export function triadFormFieldOf(path: string): string {
  const member = /^triad\.members\.(tech_lead|product_manager|product_marketing)(\.\d+)?$/.exec(path);
  return member?.[1] !== undefined ? `triad.members.${member[1]}` : path;
}
