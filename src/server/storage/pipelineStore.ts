import type { Pipeline } from '../domain/gatePolicy';
import type { Db } from './db';

/** The deal pipelines of an account as last read from HubSpot (stages, order, closed and lost flags). */
export interface PipelineRepository {
  /** Replaces the account's pipelines with what HubSpot answered (pipelines it no longer has are dropped). */
  replaceAll(portalId: number, pipelines: readonly Pipeline[], at: number): void;
  list(portalId: number): Pipeline[];
  get(portalId: number, pipelineId: string): Pipeline | undefined;
  /** When the account's pipelines were last read; undefined when never. */
  fetchedAt(portalId: number): number | undefined;
}

export function sqlitePipelines(db: Db): PipelineRepository {
  const remove = db.prepare('DELETE FROM pipelines WHERE portal_id = ?');
  const insert = db.prepare('INSERT INTO pipelines (portal_id, pipeline_id, document, fetched_at) VALUES (?, ?, ?, ?)');
  const list = db.prepare<[number], { document: string }>('SELECT document FROM pipelines WHERE portal_id = ?');
  const get = db.prepare<[number, string], { document: string }>('SELECT document FROM pipelines WHERE portal_id = ? AND pipeline_id = ?');
  const fetched = db.prepare<[number], { at: number | null }>('SELECT MAX(fetched_at) AS at FROM pipelines WHERE portal_id = ?');
  const replaceAll = db.transaction((portalId: number, pipelines: readonly Pipeline[], at: number) => {
    remove.run(portalId);
    for (const p of pipelines) {
      const document: Pipeline = {
        id: p.id,
        label: p.label,
        displayOrder: p.displayOrder,
        stages: p.stages.map((s) => ({ id: s.id, label: s.label, displayOrder: s.displayOrder, isClosed: s.isClosed, isLost: s.isLost })),
      };
      insert.run(portalId, p.id, JSON.stringify(document), at);
    }
  });
  const parse = (row: { document: string }) => JSON.parse(row.document) as Pipeline;
  return {
    replaceAll(portalId, pipelines, at) {
      replaceAll(portalId, pipelines, at);
    },
    list(portalId) {
      return list
        .all(portalId)
        .map(parse)
        .sort((a, b) => a.displayOrder - b.displayOrder || a.id.localeCompare(b.id));
    },
    get(portalId, pipelineId) {
      const row = get.get(portalId, pipelineId);
      return row ? parse(row) : undefined;
    },
    fetchedAt(portalId) {
      return fetched.get(portalId)?.at ?? undefined;
    },
  };
}
