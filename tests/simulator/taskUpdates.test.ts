import { Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/tasks';
import { startSimulator, type Simulator } from '../../src/simulator';

/**
 * Updating tasks in the simulator, through the real @hubspot/api-client, as HubSpot answers it
 * (https://developers.hubspot.com/docs/api-reference/legacy/crm/activities/tasks/batch/update-tasks,
 * and the changelog "Simplifying batch update response codes for CRM v3 APIs": 200 when every
 * input was updated, 207 Multi-Status when some failed): PATCH /crm/v3/objects/tasks/{id} and
 * POST /crm/v3/objects/tasks/batch/update; a deleted task is 404 alone and an OBJECT_NOT_FOUND
 * error naming its id in a batch, whose other inputs are updated.
 */
const TASK_TO_DEAL = 216;

let sim: Simulator;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator();
  client = new Client({ accessToken: sim.accessToken, basePath: sim.url, numberOfApiCallRetries: 0 });
});
afterAll(async () => {
  await sim.stop();
});

async function tasksOnNewDeal(count: number): Promise<{ dealId: string; ids: string[]; bodies: (string | null | undefined)[] }> {
  const deal = sim.seedDeal({ properties: { dealname: 'Tasked', dealstage: 'contractsent' } });
  const created = await client.crm.objects.tasks.batchApi.create({
    inputs: Array.from({ length: count }, (_, i) => ({
      properties: { hs_task_subject: `Review ${i}`, hs_task_body: `ref-${i}`, hs_task_status: 'NOT_STARTED', hs_timestamp: '2026-11-04T09:00:00.000Z' },
      associations: [{ to: { id: deal.id }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: TASK_TO_DEAL }] }],
    })),
  });
  return { dealId: deal.id, ids: created.results.map((r) => r.id), bodies: created.results.map((r) => r.properties.hs_task_body) };
}

const statusOf = (dealId: string) => Object.fromEntries(sim.tasksForDeal(dealId).map((t) => [t.id, t.properties.hs_task_status]));

async function failure(call: Promise<unknown>): Promise<{ code: number; body: { category?: string; message?: string; context?: Record<string, string[]> } }> {
  try {
    await call;
  } catch (error) {
    return error as { code: number; body: { category?: string; message?: string; context?: Record<string, string[]> } };
  }
  throw new Error('expected the call to fail');
}

describe('updating tasks', () => {
  it('answers a batch create with each task and its body, so a caller can tell which is whose', async () => {
    const { ids, bodies } = await tasksOnNewDeal(2);
    expect([...bodies].sort()).toEqual(['ref-0', 'ref-1']);
    const read = await client.crm.objects.tasks.batchApi.read({ inputs: ids.map((id) => ({ id })), properties: ['hs_task_body'], propertiesWithHistory: [] });
    expect(read.results.map((r) => [r.id, r.properties.hs_task_body])).toEqual(ids.map((id, i) => [id, bodies[i]]));
  });

  it('PATCH completes one task and answers it; a deleted task is 404 with HubSpot body', async () => {
    const { dealId, ids } = await tasksOnNewDeal(2);
    const [first, second] = ids as [string, string];
    const updated = await client.crm.objects.tasks.basicApi.update(first, { properties: { hs_task_status: 'COMPLETED' } });
    expect(updated).toMatchObject({ id: first, properties: { hs_task_status: 'COMPLETED' } });
    expect(statusOf(dealId)).toEqual({ [first]: 'COMPLETED', [second]: 'NOT_STARTED' });

    await client.crm.objects.tasks.basicApi.archive(second);
    const gone = await failure(client.crm.objects.tasks.basicApi.update(second, { properties: { hs_task_status: 'COMPLETED' } }));
    expect(gone.code).toBe(404);
    expect(gone.body).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { id: [second] } });
  });

  it('batch update: 200 when every task was updated; 207 naming the deleted ones, the others updated', async () => {
    const { dealId, ids } = await tasksOnNewDeal(3);
    const [a, b, c] = ids as [string, string, string];
    const all = await client.crm.objects.tasks.batchApi.update({ inputs: [a, b].map((id) => ({ id, properties: { hs_task_status: 'IN_PROGRESS' } })) });
    expect(all.status).toBe('COMPLETE');
    expect(all.results.map((r) => [r.id, r.properties.hs_task_status]).sort()).toEqual([[a, 'IN_PROGRESS'], [b, 'IN_PROGRESS']]);
    expect(all).not.toHaveProperty('numErrors');

    await client.crm.objects.tasks.basicApi.archive(b);
    const partial = await client.crm.objects.tasks.batchApi.update({ inputs: [a, b, c].map((id) => ({ id, properties: { hs_task_status: 'COMPLETED' } })) });
    expect(partial.results.map((r) => r.id).sort()).toEqual([a, c].sort());
    expect(partial).toMatchObject({ numErrors: 1, errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: [b] } }] });
    expect(statusOf(dealId)).toEqual({ [a]: 'COMPLETED', [c]: 'COMPLETED' });
    expect(sim.requests.all().filter((r) => r.endpoint === 'POST /crm/v3/objects/tasks/batch/update').map((r) => r.status)).toEqual([200, 207]);
  });

  it('refuses an unknown status value for the whole batch (400), changing nothing', async () => {
    const { dealId, ids } = await tasksOnNewDeal(2);
    const refused = await failure(client.crm.objects.tasks.batchApi.update({ inputs: ids.map((id, i) => ({ id, properties: { hs_task_status: i === 0 ? 'COMPLETED' : 'FINISHED' } })) }));
    expect(refused.code).toBe(400);
    expect(refused.body.message).toContain('INVALID_OPTION');
    expect(Object.values(statusOf(dealId))).toEqual(['NOT_STARTED', 'NOT_STARTED']);
  });
});
