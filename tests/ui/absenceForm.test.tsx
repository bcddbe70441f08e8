import { Alert, Button, DateInput, LoadingButton, Select, StatisticsItem, Text } from '@hubspot/ui-extensions';
import { createRenderer, type Renderer } from '@hubspot/ui-extensions/testing';
import { DealDeskHome } from '../../extensions/home/DealDeskHome';
import type { AbsencesResponse } from '../../extensions/contract/api';
import { nameOf } from '../support/people';
import { startLiveService, users, type LiveService } from './support/liveService';
import { fire, WAIT } from './cardHarness';

/**
 * Issue 15 in the views: an absence is recorded and ended from the home page, against the live
 * service: a reviewer records their own (dates, a delegate chosen by name from the reviewers), an
 * admin one for a reviewer; the service's refusals show on their fields; an absence is ended from
 * the list.
 */
let live: LiveService;
beforeEach(async () => {
  live = await startLiveService();
});
afterEach(async () => {
  await live.close();
});

async function openHome(userId: string): Promise<Renderer<'home'>> {
  const home = createRenderer('home');
  home.render(<DealDeskHome fetcher={live.fetcherFor(userId)} baseUrl={live.url} userId={userId} />);
  await home.waitFor(() => expect(home.findByTestId(StatisticsItem, 'stat-waiting')).toBeDefined(), WAIT);
  await home.waitFor(() => expect(home.findByTestId(LoadingButton, 'absence-form-submit')).toBeDefined(), WAIT);
  return home;
}

function fill(home: Renderer<'home'>, form: { from: [number, number, number]; until: [number, number, number]; delegate: string; absent?: string }) {
  if (form.absent !== undefined) fire(home.findByTestId(Select, 'absence-form-user'), 'onChange', form.absent);
  const day = ([year, month, date]: [number, number, number]) => ({ year, month: month - 1, date });
  fire(home.findByTestId(DateInput, 'absence-form-from'), 'onChange', day(form.from));
  fire(home.findByTestId(DateInput, 'absence-form-until'), 'onChange', day(form.until));
  fire(home.findByTestId(Select, 'absence-form-delegate'), 'onChange', form.delegate);
  fire(home.findByTestId(LoadingButton, 'absence-form-submit'), 'onClick');
}

const absenceLines = (home: Renderer<'home'>) =>
  home
    .findAll(Text)
    .filter((t) => /^absence-\d+$/.test(String(t.props.testId ?? '')))
    .map((t) => t.text);
const listed = async (userId: string) => (await live.call<AbsencesResponse>(userId, 'GET', '/api/v1/absences')).json.absences;

describe('recording an absence from the home page', () => {
  it('a reviewer records their own, with a delegate chosen by name, and ends it from the list', async () => {
    const home = await openHome(users.reviewer);
    expect(home.findByTestId(Select, 'absence-form-delegate').props.options.map((o) => o.label)).toContain(`${nameOf(users.secondReviewer)} (edsger.dijkstra@example.com)`);
    expect(home.findAll(Select).filter((s) => s.props.testId === 'absence-form-user')).toEqual([]);
    fill(home, { from: [2026, 11, 2], until: [2026, 11, 9], delegate: users.secondReviewer });
    await home.waitFor(() => expect(absenceLines(home)).toEqual([`you (${nameOf(users.reviewer)}): away until 2026-11-09 00:00 UTC; covered by ${nameOf(users.secondReviewer)}.`]), WAIT);
    const [absence] = await listed(users.rep);
    expect(absence).toMatchObject({ userId: users.reviewer, delegateUserId: users.secondReviewer, from: '2026-11-02T00:00:00.000Z', until: '2026-11-09T00:00:00.000Z', createdBy: users.reviewer });

    fire(home.findByTestId(Button, `absence-end-${absence?.id}`), 'onClick');
    await home.waitFor(() => expect(absenceLines(home)).toEqual([]), WAIT);
    expect(await listed(users.rep)).toEqual([]);
  });

  it('an admin records one for a reviewer', async () => {
    const home = await openHome(users.admin);
    fill(home, { absent: users.secondReviewer, from: [2026, 11, 20], until: [2026, 11, 27], delegate: users.reviewer });
    await home.waitFor(() => expect(absenceLines(home)).toEqual([`${nameOf(users.secondReviewer)}: away from 2026-11-20 00:00 UTC until 2026-11-27 00:00 UTC; covered by ${nameOf(users.reviewer)}.`]), WAIT);
    expect(await listed(users.admin)).toEqual([expect.objectContaining({ userId: users.secondReviewer, delegateUserId: users.reviewer, createdBy: users.admin })]);
  });

  it("shows the service's refusals on their fields, and an overlap above the button; records nothing", async () => {
    const home = await openHome(users.reviewer);
    fill(home, { from: [2026, 11, 9], until: [2026, 11, 5], delegate: users.secondReviewer });
    await home.waitFor(() => expect(home.findByTestId(DateInput, 'absence-form-until').props.validationMessage).toBe('must be after from (2026-11-09)'), WAIT);
    expect(await listed(users.reviewer)).toEqual([]);

    expect((await live.call(users.reviewer, 'POST', '/api/v1/absences', { delegateUserId: users.secondReviewer, from: '2026-11-03', until: '2026-11-04' })).status).toBe(201);
    fill(home, { from: [2026, 11, 2], until: [2026, 11, 12], delegate: users.secondReviewer });
    await home.waitFor(() => expect(home.findByTestId(Alert, 'absence-form-error').text).toContain('you are already away'), WAIT);
    expect(await listed(users.reviewer)).toHaveLength(1);
  });
});
