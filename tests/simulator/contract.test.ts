import { Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/notes';
import { PropertyCreateFieldTypeEnum, PropertyCreateTypeEnum } from '@hubspot/api-client/lib/codegen/crm/properties';
import { startSimulator, type Simulator } from '../../src/simulator';
import { waitUntil } from '../support/process';

/**
 * The simulator's fidelity, seen through the real @hubspot/api-client: every endpoint Dealgate
 * uses answers with what the SDK deserializes, carrying the right values, and fails with HubSpot's
 * status codes and error bodies.
 */
interface SdkError {
  code: number;
  body: { message?: string; category?: string; correlationId?: string; context?: Record<string, string[]>; errors?: { code?: string }[] };
}

async function failure(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (error) {
    expect(error).toMatchObject({ code: expect.any(Number) });
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

function clientFor(sim: Simulator, accessToken?: string): Client {
  return new Client({ ...(accessToken !== undefined ? { accessToken } : {}), basePath: sim.url, numberOfApiCallRetries: 0 });
}

const NOTE_TO_DEAL = 214;
const TASK_TO_DEAL = 216;
const REP = { email: 'riley.rep@example.com', firstName: 'Riley', lastName: 'Rep', userId: 1001 };
const CTO = { email: 'casey.cto@example.com', firstName: 'Casey', lastName: 'Chen', userId: 1002 };

let sim: Simulator;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator({ owners: [REP, CTO] });
  client = clientFor(sim, sim.accessToken);
});

afterAll(async () => {
  await sim.stop();
});

describe('deals', () => {
  it('creates a deal and reads it back with the default pipeline', async () => {
    const created = await client.crm.deals.basicApi.create({
      properties: { dealname: 'Acme SSO', amount: '80000', dealstage: 'appointmentscheduled' },
      associations: [],
    });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.properties).toMatchObject({ dealname: 'Acme SSO', amount: '80000', dealstage: 'appointmentscheduled', pipeline: 'default', hs_object_id: created.id });

    const read = await client.crm.deals.basicApi.getById(created.id, ['dealname', 'amount', 'dealgate_missing']);
    expect(read.properties).toMatchObject({ dealname: 'Acme SSO', amount: '80000' });
    // A name that is not a property is left out, as HubSpot does.
    expect(read.properties).not.toHaveProperty('dealgate_missing');
    expect(sim.getDeal(created.id)?.properties.dealname).toBe('Acme SSO');
  });

  it('keeps each property history newest first, telling the app apart from a user', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'History', dealstage: 'qualifiedtobuy' }, userId: REP.userId });
    await client.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'presentationscheduled' } });
    sim.moveDealToStage(deal.id, 'contractsent', { userId: CTO.userId });

    const read = await client.crm.deals.basicApi.getById(deal.id, ['dealstage'], ['dealstage']);
    expect(read.properties.dealstage).toBe('contractsent');
    const history = read.propertiesWithHistory?.dealstage ?? [];
    expect(history.map((h) => h.value)).toEqual(['contractsent', 'presentationscheduled', 'qualifiedtobuy']);
    expect(history[0]).toMatchObject({ sourceType: 'CRM_UI', sourceId: `userId:${CTO.userId}`, updatedByUserId: CTO.userId });
    expect(history[1]).toMatchObject({ sourceType: 'INTEGRATION', sourceId: String(sim.appId) });
    expect(history[1]?.updatedByUserId).toBeUndefined();
    expect(history.every((h) => h.timestamp instanceof Date)).toBe(true);
    const times = history.map((h) => h.timestamp.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set(times).size).toBe(3);
  });

  it('records no history entry when a value does not change', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Same', dealstage: 'qualifiedtobuy' } });
    await client.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'qualifiedtobuy' } });
    expect(sim.dealHistory(deal.id, 'dealstage')).toHaveLength(1);
  });

  it('answers 404 with HubSpot body for an unknown deal, on read, update and archive', async () => {
    for (const call of [
      client.crm.deals.basicApi.getById('999999'),
      client.crm.deals.basicApi.update('999999', { properties: { dealname: 'x' } }),
      client.crm.deals.basicApi.archive('999999'),
    ]) {
      const error = await failure(call);
      expect(error.code).toBe(404);
      expect(error.body).toMatchObject({ category: 'OBJECT_NOT_FOUND', message: 'Object not found.  objectId are usually numeric.', context: { id: ['999999'] } });
      expect(error.body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('refuses a write to a property that does not exist, as HubSpot does, and changes nothing', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Strict', dealstage: 'qualifiedtobuy' } });
    const error = await failure(client.crm.deals.basicApi.update(deal.id, { properties: { dealname: 'Changed', dealgate_nope: 'x' } }));
    expect(error.code).toBe(400);
    expect(error.body.category).toBe('VALIDATION_ERROR');
    expect(error.body.message).toContain('Property values were not valid');
    expect(error.body.message).toContain('PROPERTY_DOESNT_EXIST');
    expect(error.body.errors?.[0]?.code).toBe('PROPERTY_DOESNT_EXIST');
    expect(sim.getDeal(deal.id)?.properties.dealname).toBe('Strict');
  });

  it('refuses a stage that is not in the deal pipeline', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Stages', dealstage: 'qualifiedtobuy' } });
    const error = await failure(client.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'no_such_stage' } }));
    expect(error.code).toBe(400);
    expect(error.body.message).toContain('INVALID_OPTION');
    expect(sim.getDeal(deal.id)?.properties.dealstage).toBe('qualifiedtobuy');
  });

  it('batch-reads deals with history and reports unknown ids as a multi-status error', async () => {
    const a = sim.seedDeal({ properties: { dealname: 'A', dealstage: 'qualifiedtobuy' } });
    const b = sim.seedDeal({ properties: { dealname: 'B', dealstage: 'contractsent' } });
    const all = await client.crm.deals.batchApi.read({ inputs: [{ id: a.id }, { id: b.id }], properties: ['dealname', 'dealstage'], propertiesWithHistory: ['dealstage'] });
    expect(all.results.map((r) => r.properties.dealname).sort()).toEqual(['A', 'B']);
    expect(all.results.find((r) => r.id === b.id)?.propertiesWithHistory?.dealstage?.[0]?.value).toBe('contractsent');
    expect(all.status).toBe('COMPLETE');

    const partial = await client.crm.deals.batchApi.read({ inputs: [{ id: a.id }, { id: '424242' }], properties: ['dealname'], propertiesWithHistory: [] });
    expect(partial.results.map((r) => r.id)).toEqual([a.id]);
    expect(partial).toMatchObject({ numErrors: 1, errors: [{ category: 'OBJECT_NOT_FOUND', context: { ids: ['424242'] } }] });
  });

  it('batch-updates deals as the app, all or nothing on invalid properties', async () => {
    const a = sim.seedDeal({ properties: { dealname: 'A', dealstage: 'qualifiedtobuy' } });
    const b = sim.seedDeal({ properties: { dealname: 'B', dealstage: 'qualifiedtobuy' } });
    const result = await client.crm.deals.batchApi.update({
      inputs: [
        { id: a.id, properties: { dealstage: 'contractsent' } },
        { id: b.id, properties: { amount: '12000' } },
      ],
    });
    expect(result.results.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect(sim.getDeal(a.id)?.properties.dealstage).toBe('contractsent');
    expect(sim.dealHistory(a.id, 'dealstage')[0]).toMatchObject({ value: 'contractsent', sourceType: 'INTEGRATION', sourceId: String(sim.appId) });
    expect(sim.getDeal(b.id)?.properties.amount).toBe('12000');

    const error = await failure(
      client.crm.deals.batchApi.update({
        inputs: [
          { id: a.id, properties: { dealname: 'Renamed' } },
          { id: b.id, properties: { not_a_property: '1' } },
        ],
      }),
    );
    expect(error.code).toBe(400);
    expect(sim.getDeal(a.id)?.properties.dealname).toBe('A');

    const duplicate = await failure(client.crm.deals.batchApi.update({ inputs: [{ id: a.id, properties: {} }, { id: a.id, properties: {} }] }));
    expect(duplicate.code).toBe(400);
    expect(duplicate.body.message).toContain('Duplicate IDs');
  });

  it('archives a deal, after which it is not found', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Gone', dealstage: 'qualifiedtobuy' } });
    await client.crm.deals.basicApi.archive(deal.id);
    expect(sim.getDeal(deal.id)).toBeUndefined();
    expect((await failure(client.crm.deals.basicApi.getById(deal.id))).code).toBe(404);
  });

  it('refuses more than 100 inputs in one batch', async () => {
    const error = await failure(client.crm.deals.batchApi.read({ inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i + 1) })), properties: [], propertiesWithHistory: [] }));
    expect(error.code).toBe(400);
    expect(error.body.category).toBe('VALIDATION_ERROR');
  });
});

describe('pipelines', () => {
  it("lists HubSpot's default sales pipeline with its real stage ids, order and string metadata", async () => {
    const { results } = await client.crm.pipelines.pipelinesApi.getAll('deals');
    const pipeline = results.find((p) => p.id === 'default');
    expect(pipeline?.label).toBe('Sales Pipeline');
    expect(pipeline?.stages.map((s) => s.id)).toEqual([
      'appointmentscheduled',
      'qualifiedtobuy',
      'presentationscheduled',
      'decisionmakerboughtin',
      'contractsent',
      'closedwon',
      'closedlost',
    ]);
    const contract = pipeline?.stages.find((s) => s.id === 'contractsent');
    expect(contract).toMatchObject({ label: 'Contract Sent', displayOrder: 4, metadata: { isClosed: 'false', probability: '0.9' } });
    expect(pipeline?.stages.find((s) => s.id === 'closedwon')?.metadata).toEqual({ isClosed: 'true', probability: '1.0' });
    expect(pipeline?.stages.find((s) => s.id === 'closedlost')?.metadata).toEqual({ isClosed: 'true', probability: '0.0' });
    expect(contract?.createdAt).toBeInstanceOf(Date);
  });

  it('lists a seeded custom pipeline with numeric ids, and deals can live in it', async () => {
    const seeded = sim.seedPipeline({
      label: 'Enterprise',
      stages: [{ label: 'Discovery' }, { label: 'Technical review' }, { label: 'Contract' }, { label: 'Won', isClosed: true }, { label: 'Lost', isClosed: true }],
    });
    const { results } = await client.crm.pipelines.pipelinesApi.getAll('deals');
    const enterprise = results.find((p) => p.id === seeded.id);
    expect(enterprise?.id).toMatch(/^\d+$/);
    expect(enterprise?.stages.map((s) => s.label)).toEqual(['Discovery', 'Technical review', 'Contract', 'Won', 'Lost']);
    expect(enterprise?.stages[4]?.metadata).toEqual({ isClosed: 'true', probability: '0.0' });
    const contractStage = enterprise?.stages[2]?.id ?? '';

    const byId = await client.crm.pipelines.pipelinesApi.getById('deals', seeded.id);
    expect(byId.stages).toHaveLength(5);

    const deal = await client.crm.deals.basicApi.create({ properties: { dealname: 'Ent', pipeline: seeded.id, dealstage: contractStage }, associations: [] });
    expect(deal.properties.pipeline).toBe(seeded.id);
    // The default pipeline's stage ids are not valid in the custom pipeline.
    expect((await failure(client.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'contractsent' } }))).code).toBe(400);
    // A user moving it to a stage of another pipeline moves it to that pipeline, as in HubSpot's board.
    sim.moveDealToStage(deal.id, 'closedlost', { userId: REP.userId });
    expect(sim.getDeal(deal.id)?.properties).toMatchObject({ pipeline: 'default', dealstage: 'closedlost' });
  });

  it('answers 404 for an unknown pipeline', async () => {
    const error = await failure(client.crm.pipelines.pipelinesApi.getById('deals', 'nope'));
    expect(error.code).toBe(404);
    expect(error.body.category).toBe('OBJECT_NOT_FOUND');
  });
});

describe('properties', () => {
  // Dealgate only creates properties; reading them back needs crm.schemas.deals.read, which the app does not declare.
  const reader = (): Client => clientFor(sim, sim.issueAccessToken({ scopes: ['crm.schemas.deals.read'] }));

  it('creates a property group and answers 409 with HubSpot body the second time', async () => {
    const group = await client.crm.properties.groupsApi.create('deals', { name: 'dealgate', label: 'Dealgate', displayOrder: -1 });
    expect(group).toMatchObject({ name: 'dealgate', label: 'Dealgate', displayOrder: -1, archived: false });
    const again = await failure(client.crm.properties.groupsApi.create('deals', { name: 'dealgate', label: 'Dealgate', displayOrder: -1 }));
    expect(again.code).toBe(409);
    expect(again.body).toMatchObject({ category: 'OBJECT_ALREADY_EXISTS', context: { name: ['dealgate'] } });
    const { results } = await reader().crm.properties.groupsApi.getAll('deals');
    expect(results.map((g) => g.name)).toContain('dealgate');
  });

  it('creates deal properties, 409 when they exist, and validates values written to them', async () => {
    const status = await client.crm.properties.coreApi.create('deals', {
      name: 'dealgate_status',
      label: 'Review status',
      type: PropertyCreateTypeEnum.Enumeration,
      fieldType: PropertyCreateFieldTypeEnum.Select,
      groupName: 'dealgate',
      description: 'Dealgate review status',
      options: ['not_required', 'required', 'pending'].map((value, displayOrder) => ({ label: value, value, displayOrder, hidden: false })),
    });
    expect(status).toMatchObject({ name: 'dealgate_status', type: 'enumeration', fieldType: 'select', groupName: 'dealgate' });
    expect(status.options.map((o) => o.value)).toEqual(['not_required', 'required', 'pending']);
    expect(status.createdAt).toBeInstanceOf(Date);

    await client.crm.properties.coreApi.create('deals', {
      name: 'dealgate_commitment',
      label: 'Custom technical commitment',
      type: PropertyCreateTypeEnum.Bool,
      fieldType: PropertyCreateFieldTypeEnum.Booleancheckbox,
      groupName: 'dealgate',
    });
    const again = await failure(
      client.crm.properties.coreApi.create('deals', { name: 'dealgate_status', label: 'x', type: PropertyCreateTypeEnum.String, fieldType: PropertyCreateFieldTypeEnum.Text, groupName: 'dealgate' }),
    );
    expect(again.code).toBe(409);
    expect(again.body.category).toBe('OBJECT_ALREADY_EXISTS');

    expect((await reader().crm.properties.coreApi.getByName('deals', 'dealgate_status')).label).toBe('Review status');
    expect((await failure(reader().crm.properties.coreApi.getByName('deals', 'dealgate_unknown'))).code).toBe(404);

    const deal = sim.seedDeal({ properties: { dealname: 'Props', dealstage: 'qualifiedtobuy' } });
    await client.crm.deals.basicApi.update(deal.id, { properties: { dealgate_status: 'pending', dealgate_commitment: 'TRUE' } });
    expect(sim.getDeal(deal.id)?.properties).toMatchObject({ dealgate_status: 'pending', dealgate_commitment: 'true' });
    const bad = await failure(client.crm.deals.basicApi.update(deal.id, { properties: { dealgate_status: 'maybe' } }));
    expect(bad.code).toBe(400);
    expect(bad.body.message).toContain('INVALID_OPTION');
  });

  it('refuses a property in a group that does not exist', async () => {
    const error = await failure(
      client.crm.properties.coreApi.create('deals', { name: 'orphan', label: 'Orphan', type: PropertyCreateTypeEnum.String, fieldType: PropertyCreateFieldTypeEnum.Text, groupName: 'nowhere' }),
    );
    expect(error.code).toBe(400);
  });

  it('keeps a date property as its day (YYYY-MM-DD) and refuses a time that is not midnight UTC, as HubSpot documents', async () => {
    await client.crm.properties.coreApi.create('deals', {
      name: 'promised_day',
      label: 'Promised day',
      type: PropertyCreateTypeEnum.Date,
      fieldType: PropertyCreateFieldTypeEnum.Date,
      groupName: 'dealinformation',
    });
    const deal = sim.seedDeal({ properties: { dealname: 'Dated', dealstage: 'qualifiedtobuy' } });
    await client.crm.deals.basicApi.update(deal.id, { properties: { promised_day: '2026-11-30' } });
    expect(sim.getDeal(deal.id)?.properties.promised_day).toBe('2026-11-30');
    await client.crm.deals.basicApi.update(deal.id, { properties: { promised_day: String(Date.UTC(2026, 11, 14)) } });
    expect(sim.getDeal(deal.id)?.properties.promised_day).toBe('2026-12-14');
    const notMidnight = await failure(client.crm.deals.basicApi.update(deal.id, { properties: { promised_day: String(Date.UTC(2026, 11, 14, 9)) } }));
    expect(notMidnight.code).toBe(400);
    expect(notMidnight.body.message).toContain('INVALID_DATE');
    expect(sim.getDeal(deal.id)?.properties.promised_day).toBe('2026-12-14');
  });
});

describe('notes and tasks', () => {
  const toDeal = (dealId: string, typeId: number) => [
    { to: { id: dealId }, types: [{ associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined, associationTypeId: typeId }] },
  ];

  it('creates notes (single and batch) associated with a deal, and lists them from the deal', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Noted', dealstage: 'contractsent' } });
    const single = await client.crm.objects.notes.basicApi.create({
      properties: { hs_note_body: 'Moved back: review pending', hs_timestamp: '2026-11-02T09:00:00Z' },
      associations: toDeal(deal.id, NOTE_TO_DEAL),
    });
    expect(single.properties).toMatchObject({ hs_note_body: 'Moved back: review pending', hs_timestamp: '2026-11-02T09:00:00.000Z' });
    const batch = await client.crm.objects.notes.batchApi.create({
      inputs: [1, 2].map((n) => ({ properties: { hs_note_body: `note ${n}`, hs_timestamp: String(Date.UTC(2026, 10, 2)) }, associations: toDeal(deal.id, NOTE_TO_DEAL) })),
    });
    expect(batch.status).toBe('COMPLETE');
    expect(batch.results).toHaveLength(2);

    const notes = sim.notesForDeal(deal.id);
    expect(notes.map((n) => n.properties.hs_note_body).sort()).toEqual(['Moved back: review pending', 'note 1', 'note 2']);
    expect(notes.every((n) => n.dealIds.includes(deal.id))).toBe(true);

    const associated = await client.crm.associations.v4.basicApi.getPage('deals', deal.id, 'notes');
    expect(associated.results.map((r) => String(r.toObjectId)).sort()).toEqual([single.id, ...batch.results.map((r) => r.id)].sort());
    expect(associated.results[0]?.associationTypes[0]).toMatchObject({ category: 'HUBSPOT_DEFINED', typeId: 213 });

    const withAssociations = await client.crm.deals.basicApi.getById(deal.id, ['dealname'], undefined, ['notes']);
    expect(withAssociations.associations?.notes?.results.map((r) => r.id)).toContain(single.id);
    expect(withAssociations.associations?.notes?.results[0]?.type).toBe('deal_to_note');

    expect((await client.crm.objects.notes.basicApi.getById(single.id, ['hs_note_body'])).properties.hs_note_body).toBe('Moved back: review pending');
  });

  it('refuses a note without hs_timestamp, with a task association type, or for a missing deal', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Picky', dealstage: 'contractsent' } });
    const noTimestamp = await failure(client.crm.objects.notes.basicApi.create({ properties: { hs_note_body: 'x' }, associations: toDeal(deal.id, NOTE_TO_DEAL) }));
    expect(noTimestamp.code).toBe(400);
    const wrongType = await failure(
      client.crm.objects.notes.basicApi.create({ properties: { hs_note_body: 'x', hs_timestamp: '2026-11-02T09:00:00Z' }, associations: toDeal(deal.id, TASK_TO_DEAL) }),
    );
    expect(wrongType.code).toBe(400);
    const missingDeal = await failure(
      client.crm.objects.notes.batchApi.create({
        inputs: [
          { properties: { hs_note_body: 'ok', hs_timestamp: '2026-11-02T09:00:00Z' }, associations: toDeal(deal.id, NOTE_TO_DEAL) },
          { properties: { hs_note_body: 'x', hs_timestamp: '2026-11-02T09:00:00Z' }, associations: toDeal('777', NOTE_TO_DEAL) },
        ],
      }),
    );
    expect(missingDeal.code).toBe(400);
    // All or nothing: the valid input of the refused batch was not created either.
    expect(sim.notesForDeal(deal.id)).toEqual([]);
  });

  it('creates tasks with an owner and due date, associated with a deal', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Tasked', dealstage: 'contractsent' } });
    const cto = sim.owners().find((o) => o.email === CTO.email);
    const result = await client.crm.objects.tasks.batchApi.create({
      inputs: [
        {
          properties: {
            hs_task_subject: 'Review Acme SSO',
            hs_task_body: 'Answer within 48 h',
            hs_task_status: 'NOT_STARTED',
            hs_task_priority: 'HIGH',
            hs_timestamp: '2026-11-04T09:00:00.000Z',
            hubspot_owner_id: cto?.id ?? '',
          },
          associations: toDeal(deal.id, TASK_TO_DEAL),
        },
      ],
    });
    expect(result.results[0]?.properties.hs_task_subject).toBe('Review Acme SSO');
    const tasks = sim.tasksForDeal(deal.id);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.properties).toMatchObject({ hubspot_owner_id: cto?.id, hs_timestamp: '2026-11-04T09:00:00.000Z', hs_task_priority: 'HIGH' });

    const single = await client.crm.objects.tasks.basicApi.create({
      properties: { hs_task_subject: 'Second', hs_timestamp: '2026-11-05T09:00:00.000Z' },
      associations: toDeal(deal.id, TASK_TO_DEAL),
    });
    expect(single.id).toMatch(/^\d+$/);
    expect(sim.tasksForDeal(deal.id)).toHaveLength(2);

    const badOwner = await failure(
      client.crm.objects.tasks.basicApi.create({
        properties: { hs_task_subject: 'x', hs_timestamp: '2026-11-04T09:00:00Z', hubspot_owner_id: String(CTO.userId) },
        associations: toDeal(deal.id, TASK_TO_DEAL),
      }),
    );
    expect(badOwner.code).toBe(400);
    expect(badOwner.body.message).toContain('INVALID_OWNER_ID');
  });
});

describe('owners', () => {
  it('lists owners with owner ids, user ids and emails, and filters by email', async () => {
    const { results } = await client.crm.owners.ownersApi.getPage();
    expect(results.map((o) => o.email)).toEqual([REP.email, CTO.email]);
    expect(results[1]).toMatchObject({ userId: CTO.userId, firstName: 'Casey', lastName: 'Chen', type: 'PERSON', archived: false });
    expect(results[1]?.id).toMatch(/^\d+$/);
    expect(results[1]?.id).not.toBe(String(CTO.userId));
    const filtered = await client.crm.owners.ownersApi.getPage(CTO.email);
    expect(filtered.results.map((o) => o.userId)).toEqual([CTO.userId]);
  });

  it('reads one owner by owner id or by user id, and answers an unknown one 404 with HubSpot\'s error body', async () => {
    const cto = sim.owners().find((o) => o.userId === CTO.userId);
    expect(await client.crm.owners.ownersApi.getById(Number(cto?.id))).toMatchObject({ email: CTO.email, firstName: 'Casey', lastName: 'Chen' });
    expect(await client.crm.owners.ownersApi.getById(CTO.userId, 'userId')).toMatchObject({ id: cto?.id });
    const unknown = await failure(client.crm.owners.ownersApi.getById(99_999_999));
    expect(unknown.code).toBe(404);
    expect(unknown.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Owner 99999999 not found' });
    expect(unknown.body.correlationId).toEqual(expect.any(String));
  });

  it('gives a seeded user id its one owner: seeding it again renames that owner, as a rename in HubSpot does', async () => {
    const before = sim.owners().find((o) => o.userId === REP.userId);
    sim.seedOwner({ ...REP, firstName: 'Riley', lastName: 'Reyes' });
    const { results } = await client.crm.owners.ownersApi.getPage();
    expect(results.filter((o) => o.userId === REP.userId)).toEqual([expect.objectContaining({ id: before?.id, firstName: 'Riley', lastName: 'Reyes' })]);
    sim.seedOwner(REP);
  });

  it('archives a deactivated user\'s owner: listed only with archived=true, its user id in userIdIncludingInactive alone', async () => {
    const leaver = sim.seedOwner({ email: 'lee.leaver@example.com', userId: 4_400_001 });
    sim.deactivateOwner(4_400_001);
    const active = await client.crm.owners.ownersApi.getPage(undefined, undefined, 500, false);
    expect(active.results.map((o) => o.id)).not.toContain(leaver.id);
    const archived = await client.crm.owners.ownersApi.getPage(undefined, undefined, 500, true);
    expect(archived.results).toEqual([expect.objectContaining({ id: leaver.id, archived: true, userIdIncludingInactive: 4_400_001, firstName: 'Lee', lastName: 'Leaver' })]);
    expect(archived.results[0]?.userId).toBeUndefined();
    // Nor is it found as a user any more, and by owner id only with archived=true.
    expect((await failure(client.crm.owners.ownersApi.getById(4_400_001, 'userId'))).code).toBe(404);
    expect((await failure(client.crm.owners.ownersApi.getById(Number(leaver.id)))).code).toBe(404);
    expect(await client.crm.owners.ownersApi.getById(Number(leaver.id), 'id', true)).toMatchObject({ id: leaver.id, archived: true });
  });
});

describe('OAuth', () => {
  const redirectUri = 'https://dealgate.example.com/oauth/callback';

  it('exchanges an authorization code once, refreshes, and describes the token', async () => {
    const anonymous = clientFor(sim);
    const code = sim.issueAuthorizationCode({ redirectUri, userId: REP.userId });
    const tokens = await anonymous.oauth.tokensApi.create('authorization_code', code, redirectUri, sim.clientId, sim.clientSecret);
    expect(tokens).toMatchObject({ tokenType: 'bearer', expiresIn: 1800 });
    expect(tokens.accessToken).not.toBe('');
    expect(tokens.refreshToken).not.toBe('');

    const pipelines = await clientFor(sim, tokens.accessToken).crm.pipelines.pipelinesApi.getAll('deals');
    expect(pipelines.results.length).toBeGreaterThan(0);

    const reused = await failure(anonymous.oauth.tokensApi.create('authorization_code', code, redirectUri, sim.clientId, sim.clientSecret));
    expect(reused.code).toBe(400);
    expect(reused.body.message).toBe('missing or unknown auth code');

    const refreshed = await anonymous.oauth.tokensApi.create('refresh_token', undefined, undefined, sim.clientId, sim.clientSecret, tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);

    const info = await anonymous.oauth.accessTokensApi.get(refreshed.accessToken);
    expect(info).toMatchObject({ hubId: sim.portalId, appId: sim.appId, userId: REP.userId, user: REP.email, tokenType: 'access' });
    expect(info.scopes).toContain('oauth');
  });

  it('refuses a wrong client secret, a wrong redirect URI and an unknown refresh token', async () => {
    const anonymous = clientFor(sim);
    const code = sim.issueAuthorizationCode({ redirectUri });
    expect((await failure(anonymous.oauth.tokensApi.create('authorization_code', code, redirectUri, sim.clientId, 'wrong'))).code).toBe(400);
    expect((await failure(anonymous.oauth.tokensApi.create('authorization_code', code, 'https://evil.example/cb', sim.clientId, sim.clientSecret))).code).toBe(400);
    const refresh = await failure(anonymous.oauth.tokensApi.create('refresh_token', undefined, undefined, sim.clientId, sim.clientSecret, 'nope'));
    expect(refresh.code).toBe(400);
    expect(refresh.body.message).toBe('missing or invalid refresh token');
  });
});

describe('authentication', () => {
  it('answers 401 with HubSpot body for a missing, an unknown and an expired token', async () => {
    const missing = await failure(clientFor(sim).crm.deals.basicApi.getById('1'));
    expect(missing.code).toBe(401);
    expect(missing.body.category).toBe('INVALID_AUTHENTICATION');
    expect(missing.body.message).toMatch(/^Authentication credentials not found/);

    const unknown = await failure(clientFor(sim, 'not-a-token').crm.pipelines.pipelinesApi.getAll('deals'));
    expect(unknown.code).toBe(401);
    expect(unknown.body.category).toBe('INVALID_AUTHENTICATION');

    const token = sim.issueAccessToken({ expiresInSeconds: 1800 });
    await clientFor(sim, token).crm.pipelines.pipelinesApi.getAll('deals');
    sim.expireAccessToken(token);
    const expired = await failure(clientFor(sim, token).crm.pipelines.pipelinesApi.getAll('deals'));
    expect(expired.code).toBe(401);
    expect(expired.body.category).toBe('EXPIRED_AUTHENTICATION');
    expect(expired.body.message).toMatch(/^The OAuth token used to make this call expired/);
  });
});

describe('rate limits', () => {
  it('answers 429 after the rolling 10-second allowance, until the window moves on', async () => {
    let now = Date.UTC(2026, 10, 2, 9, 0, 0);
    const limited = await startSimulator({ rateLimitPerTenSeconds: 3, now: () => now });
    try {
      const api = clientFor(limited, limited.accessToken);
      for (let i = 0; i < 3; i++) await api.crm.pipelines.pipelinesApi.getAll('deals');
      const error = await failure(api.crm.pipelines.pipelinesApi.getAll('deals'));
      expect(error.code).toBe(429);
      expect(error.body).toMatchObject({ category: 'RATE_LIMITS', message: 'You have reached your ten_secondly_rolling limit.' });

      // The SDK keeps only its Error model's fields; the raw body carries what its retry logic reads.
      const raw = await fetch(`${limited.url}/crm/v3/pipelines/deals`, { headers: { authorization: `Bearer ${limited.accessToken}` } });
      expect(raw.status).toBe(429);
      expect(await raw.json()).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
      expect(raw.headers.get('x-hubspot-ratelimit-max')).toBe('3');
      expect(raw.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');

      // Another token of the same app on the same account shares the window.
      const other = limited.issueAccessToken();
      expect((await failure(clientFor(limited, other).crm.pipelines.pipelinesApi.getAll('deals'))).code).toBe(429);

      now += 10_001;
      await expect(api.crm.pipelines.pipelinesApi.getAll('deals')).resolves.toBeDefined();
    } finally {
      await limited.stop();
    }
  });
});

describe('fault injection', () => {
  it('fails the next N matching calls with 5xx or 429, then recovers', async () => {
    sim.faults.failNext(2, { status: 503, match: 'GET /crm/v3/pipelines' });
    expect((await failure(client.crm.pipelines.pipelinesApi.getAll('deals'))).code).toBe(503);
    // Calls that do not match are not affected.
    await expect(client.crm.owners.ownersApi.getPage()).resolves.toBeDefined();
    expect((await failure(client.crm.pipelines.pipelinesApi.getAll('deals'))).code).toBe(503);
    await expect(client.crm.pipelines.pipelinesApi.getAll('deals')).resolves.toBeDefined();

    sim.faults.failNext(1, { status: 429 });
    const limited = await failure(client.crm.owners.ownersApi.getPage());
    expect(limited.code).toBe(429);
    expect(limited.body.message).toBe('You have reached your ten_secondly_rolling limit.');
  });

  it('adds latency', async () => {
    sim.faults.latency(150, 'GET /crm/v3/owners');
    try {
      const started = Date.now();
      await client.crm.owners.ownersApi.getPage();
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      sim.faults.latency(0);
    }
  });

  it('hangs a call past the caller timeout, then handles it late', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Slow', dealstage: 'qualifiedtobuy' } });
    const [started, finished] = [sim.faults.hangsStarted(), sim.faults.hangsFinished()];
    sim.faults.hangNext(1, { ms: 1_000, match: 'PATCH /crm/v3/objects/deals' });
    // The caller gives up once its call is held (not after a fixed 100 ms, which on a loaded machine
    // can pass before the call reaches the simulator, or after the hang is over).
    const caller = new AbortController();
    const attempt = fetch(`${sim.url}/crm/v3/objects/deals/${deal.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${sim.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { dealstage: 'contractsent' } }),
      signal: caller.signal,
    });
    await waitUntil(() => sim.faults.hangsStarted() > started, 20_000, 'the PATCH to be held');
    caller.abort();
    await expect(attempt).rejects.toThrow();
    expect(sim.getDeal(deal.id)?.properties.dealstage).toBe('qualifiedtobuy');
    expect(sim.faults.hangsFinished()).toBe(finished);
    // HubSpot may still apply a change whose caller gave up: the write lands after the hang.
    await waitUntil(() => sim.faults.hangsFinished() > finished, 20_000, 'the held PATCH to be handled');
    expect(sim.getDeal(deal.id)?.properties.dealstage).toBe('contractsent');
  }, 60_000);

  it('can hang a call until the simulator stops', async () => {
    const own = await startSimulator();
    own.faults.hangNext();
    const attempt = fetch(`${own.url}/crm/v3/pipelines/deals`, { headers: { authorization: `Bearer ${own.accessToken}` } });
    const outcome = attempt.then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((r) => setTimeout(r, 100));
    await own.stop();
    expect(await outcome).toBe('dropped');
  });

  it('holds an answer after handling the call: the caller gets what HubSpot had then, though a write landed since', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Late answer', dealstage: 'qualifiedtobuy' } });
    const held = sim.faults.holdNextAnswer({ match: 'GET /crm/v3/objects/deals/{objectId}' });
    let answered = false;
    const read = client.crm.deals.basicApi.getById(deal.id, ['dealstage']).finally(() => (answered = true));
    await held.handled;
    await client.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'contractsent' } });
    expect(answered).toBe(false);
    held.release();
    expect((await read).properties.dealstage).toBe('qualifiedtobuy');
    expect(sim.getDeal(deal.id)?.properties.dealstage).toBe('contractsent');
  });
});

describe('request log', () => {
  it('counts calls per endpoint with the object type spelled out', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Counted', dealstage: 'qualifiedtobuy' } });
    sim.requests.reset();
    await client.crm.deals.basicApi.getById(deal.id);
    await client.crm.deals.basicApi.getById(deal.id);
    await client.crm.deals.batchApi.read({ inputs: [{ id: deal.id }], properties: [], propertiesWithHistory: [] });
    await failure(client.crm.deals.basicApi.getById('1'));
    expect(sim.requests.countsByEndpoint()).toEqual({
      'GET /crm/v3/objects/deals/{objectId}': 3,
      'POST /crm/v3/objects/deals/batch/read': 1,
    });
    const log = sim.requests.all();
    expect(log.map((e) => e.status)).toEqual([200, 200, 200, 404]);
    expect(log[2]).toMatchObject({ batchSize: 1, appId: sim.appId });
    expect(sim.requests.count(/^GET /)).toBe(3);
  });
});
