import { Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/tasks';
import { startSimulator, TASK_TO_DEAL, type Simulator } from '../../src/simulator';

/**
 * `hs_task_reminders` in the simulator, through the real @hubspot/api-client: HubSpot's tasks guide
 * says the reminder is a Unix timestamp in milliseconds (https://developers.hubspot.com/docs/api/crm/tasks),
 * so the simulator keeps such a value and refuses anything else with a 400 naming the property.
 */
let sim: Simulator;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator();
  client = new Client({ accessToken: sim.accessToken, basePath: sim.url, numberOfApiCallRetries: 0 });
});
afterAll(async () => {
  await sim.stop();
});

function createTask(dealId: string, reminders: string) {
  return client.crm.objects.tasks.basicApi.create({
    properties: { hs_task_subject: 'Review', hs_task_body: 'ref', hs_timestamp: '2026-11-04T09:00:00.000Z', hs_task_reminders: reminders },
    associations: [{ to: { id: dealId }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: TASK_TO_DEAL }] }],
  });
}

describe('task reminders', () => {
  it('keeps a reminder given in Unix milliseconds', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Reminded', dealstage: 'contractsent' } });
    const at = String(Date.UTC(2026, 10, 3, 21, 0, 0));
    await createTask(deal.id, at);
    expect(sim.tasksForDeal(deal.id).map((t) => t.properties.hs_task_reminders)).toEqual([at]);
  });

  it('refuses an ISO date or text as the reminder, naming the property, and creates nothing', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Badly reminded', dealstage: 'contractsent' } });
    for (const bad of ['2026-11-03T21:00:00.000Z', 'tomorrow', '-5']) {
      await expect(createTask(deal.id, bad)).rejects.toMatchObject({ code: 400, body: expect.objectContaining({ category: 'VALIDATION_ERROR', message: expect.stringContaining('hs_task_reminders') }) });
    }
    expect(sim.tasksForDeal(deal.id)).toEqual([]);
  });
});
