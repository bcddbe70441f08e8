import type { Settings, SettingsFieldChange } from '../../../extensions/contract/api';
import type { Db } from './db';

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
  record(change: Omit<SettingsChange, 'id'>): number;
  /** Newest first. */
  list(portalId: number, limit: number): SettingsChange[];
  /** The newest change whose effect on the gate is not neutral. */
  latestGateChange(portalId: number): SettingsChange | undefined;
  /** Changes made after `at`, oldest first. */
  since(portalId: number, at: number): SettingsChange[];
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

export function sqliteSettingsChanges(db: Db): SettingsChangeRepository {
  const insert = db.prepare(`INSERT INTO settings_changes (portal_id, changed_by, changed_at, before_doc, after_doc, fields, effect)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const list = db.prepare<[number, number], Row>('SELECT * FROM settings_changes WHERE portal_id = ? ORDER BY id DESC LIMIT ?');
  const latestGate = db.prepare<[number], Row>(
    `SELECT * FROM settings_changes WHERE portal_id = ? AND effect <> 'neutral' ORDER BY id DESC LIMIT 1`,
  );
  const since = db.prepare<[number, number], Row>('SELECT * FROM settings_changes WHERE portal_id = ? AND changed_at > ? ORDER BY id');
  return {
    record(c) {
      const result = insert.run(c.portalId, c.changedBy, c.changedAt, JSON.stringify(c.before), JSON.stringify(c.after), JSON.stringify(c.fields), c.effect);
      return Number(result.lastInsertRowid);
    },
    list(portalId, limit) {
      return list.all(portalId, limit).map(toChange);
    },
    latestGateChange(portalId) {
      const row = latestGate.get(portalId);
      return row ? toChange(row) : undefined;
    },
    since(portalId, at) {
      return since.all(portalId, at).map(toChange);
    },
  };
}
