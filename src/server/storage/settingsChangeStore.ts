import type { Settings, SettingsFieldChange } from '../../../extensions/contract/api';
import type { SqlSession } from './sql';

/**
 * Every saved settings change of an account, field by field (who, when, before -> after), and
 * whether it relaxed or tightened the gate's rule. Append-only: the home page lists them, and a
 * deal that passes the gate is judged against the rule before the latest change of the gate.
 */
export type SettingsEffect = 'relaxed' | 'tightened' | 'mixed' | 'neutral';

export interface SettingsChange {
  id: number;
  portalId: number;
  changedBy: string;
  changedAt: number;
  before: Settings;
  after: Settings;
  fields: SettingsFieldChange[];
  effect: SettingsEffect;
}

export interface SettingsChangeRepository {
  record(change: Omit<SettingsChange, 'id'>): Promise<number>;
  /** Newest first. */
  list(portalId: number, limit: number): Promise<SettingsChange[]>;
  /** The newest change whose effect on the gate is not neutral. */
  latestGateChange(portalId: number): Promise<SettingsChange | undefined>;
  /** Changes made after `at`, oldest first. */
  since(portalId: number, at: number): Promise<SettingsChange[]>;
}

interface Row {
  id: number;
  portal_id: number;
  changed_by: string;
  changed_at: number;
  before_doc: string;
  after_doc: string;
  fields: string;
  effect: SettingsEffect;
}

function toChange(row: Row): SettingsChange {
  return {
    id: row.id,
    portalId: row.portal_id,
    changedBy: row.changed_by,
    changedAt: row.changed_at,
    before: JSON.parse(row.before_doc) as Settings,
    after: JSON.parse(row.after_doc) as Settings,
    fields: JSON.parse(row.fields) as SettingsFieldChange[],
    effect: row.effect,
  };
}

const insert = `INSERT INTO settings_changes (portal_id, changed_by, changed_at, before_doc, after_doc, fields, effect)
    VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`;
const list = 'SELECT * FROM settings_changes WHERE portal_id = ? ORDER BY id DESC LIMIT ?';
const latestGate = `SELECT * FROM settings_changes WHERE portal_id = ? AND effect <> 'neutral' ORDER BY id DESC LIMIT 1`;
const since = 'SELECT * FROM settings_changes WHERE portal_id = ? AND changed_at > ? ORDER BY id';

export function settingsChangeRepository(sql: SqlSession): SettingsChangeRepository {
  return {
    async record(c) {
      const row = await sql.get<{ id: number }>(insert, [
        c.portalId,
        c.changedBy,
        c.changedAt,
        JSON.stringify(c.before),
        JSON.stringify(c.after),
        JSON.stringify(c.fields),
        c.effect,
      ]);
      return row!.id;
    },
    async list(portalId, limit) {
      return (await sql.all<Row>(list, [portalId, limit])).map(toChange);
    },
    async latestGateChange(portalId) {
      const row = await sql.get<Row>(latestGate, [portalId]);
      return row ? toChange(row) : undefined;
    },
    async since(portalId, at) {
      return (await sql.all<Row>(since, [portalId, at])).map(toChange);
    },
  };
}
