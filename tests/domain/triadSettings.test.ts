import { settingsBody } from '../../extensions/contract/api';
import { decidingRoles, escalationTargets, triadMembers, triadOf, triadRoleOf, TRIAD_OFF, type TriadSettings } from '../../src/server/domain/triad';

const roles = { reviewers: ['200'], admins: ['900'], escalationReviewer: '300' };
const triad: TriadSettings = { enabled: true, members: { tech_lead: ['400'], product_manager: ['500', '501'], product_marketing: ['600'] }, decisionMaker: 'product_manager' };

describe('the Triad in the settings', () => {
  it('is off when the settings predate it, and then the reviewers decide and the escalation reviewer is escalated to, as before', () => {
    expect(triadOf({})).toBe(TRIAD_OFF);
    expect(decidingRoles(roles, TRIAD_OFF)).toBe(roles);
    expect(escalationTargets(roles, TRIAD_OFF, '100')).toEqual(['300']);
    expect(escalationTargets({ ...roles, escalationReviewer: null }, TRIAD_OFF, '100')).toEqual([]);
    // Saved members of a Triad turned off give nobody a role in the call.
    expect(decidingRoles(roles, { ...triad, enabled: false })).toBe(roles);
  });

  it('on, only the decision maker decides (no escalation reviewer), and is escalated to, never the requester', () => {
    expect(decidingRoles(roles, triad)).toEqual({ reviewers: ['500', '501'], admins: ['900'], escalationReviewer: null });
    expect(escalationTargets(roles, triad, '501')).toEqual(['500']);
    expect(escalationTargets(roles, { ...triad, decisionMaker: 'tech_lead' }, '100')).toEqual(['400']);
  });

  it("gives each member their role and lists every member once", () => {
    expect(triadRoleOf('600', triad)).toBe('product_marketing');
    expect(triadRoleOf('200', triad)).toBeNull();
    expect(triadMembers({ ...triad, members: { ...triad.members, product_marketing: ['600', '400'] } })).toEqual(['400', '500', '501', '600']);
  });

  it('the settings schema refuses an enabled Triad whose decision maker names nobody, and one person in two roles, naming the field', () => {
    const base = { valueThreshold: 0, slaHours: 24, reviewers: [], admins: ['900'], escalationReviewer: null, gateStageLabel: 'contract', gateStages: {}, capacity: null };
    const issues = (t: unknown) => {
      const parsed = settingsBody.safeParse({ ...base, triad: t });
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ ...triad, members: { ...triad.members, product_manager: [] } })).toEqual([
      'triad.members.product_manager: the Triad is on and the product manager makes the call: name at least one (or turn the Triad off)',
    ]);
    expect(issues({ ...triad, members: { ...triad.members, product_marketing: ['400'] } })).toEqual([
      'triad.members.product_marketing: user 400 is already named as tech lead: one Triad role per person',
    ]);
    expect(issues({ ...triad, enabled: false, members: { tech_lead: [], product_manager: [], product_marketing: [] } })).toEqual([]);
    expect(issues({ ...triad, decisionMaker: 'cto' })[0]).toMatch(/^triad\.decisionMaker: /);
  });
});
