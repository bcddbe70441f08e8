import type { Pipeline } from '../domain/gatePolicy';
import type { SqlSession } from './sql';
import { withinTransaction } from './withinTransaction';

/** The deal pipelines of an account as last read from HubSpot (stages, order, closed and lost flags). */
export interface PipelineRepository {
  /** Replaces the account's pipelines with what HubSpot answered (pipelines it no longer has are dropped). */
  replaceAll(portalId: number, pipelines: readonly Pipeline[], at: number): Promise<void>;
  list(portalId: number): Promise<Pipeline[]>;
  get(portalId: number, pipelineId: string): Promise<Pipeline | undefined>;
  /** When the account's pipelines were last read; undefined when never. */
  fetchedAt(portalId: number): Promise<number | undefined>;
}

const remove = 'DELETE FROM pipelines WHERE portal_id = ?';
const insert = 'INSERT INTO pipelines (portal_id, pipeline_id, document, fetched_at) VALUES (?, ?, ?, ?)';
const list = 'SELECT document FROM pipelines WHERE portal_id = ?';
const get = 'SELECT document FROM pipelines WHERE portal_id = ? AND pipeline_id = ?';
const fetched = 'SELECT MAX(fetched_at) AS at FROM pipelines WHERE portal_id = ?';

export function pipelineRepository(sql: SqlSession): PipelineRepository {
  const replaceAll = async (tx: SqlSession, portalId: number, pipelines: readonly Pipeline[], at: number) => {
    await tx.run(remove, [portalId]);
    for (const p of pipelines) {
      const document: Pipeline = {
        id: p.id,
        label: p.label,
        displayOrder: p.displayOrder,
        stages: p.stages.map((s) => ({ id: s.id, label: s.label, displayOrder: s.displayOrder, isClosed: s.isClosed, isLost: s.isLost })),
      };
      await tx.run(insert, [portalId, p.id, JSON.stringify(document), at]);
    }
  };
  const parse = (row: { document: string }) => JSON.parse(row.document) as Pipeline;
  return {
    async replaceAll(portalId, pipelines, at) {
      await withinTransaction(sql, (tx) => replaceAll(tx, portalId, pipelines, at));
    },
    async list(portalId) {
      return (await sql.all<{ document: string }>(list, [portalId]))
        .map(parse)
        .sort((a, b) => a.displayOrder - b.displayOrder || a.id.localeCompare(b.id));
    },
    async get(portalId, pipelineId) {
      const row = await sql.get<{ document: string }>(get, [portalId, pipelineId]);
      return row ? parse(row) : undefined;
    },
    async fetchedAt(portalId) {
      return (await sql.get<{ at: number | null }>(fetched, [portalId]))?.at ?? undefined;
    },
  };
}
