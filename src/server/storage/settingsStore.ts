import type { Settings } from '../../../extensions/contract/api';
import type { SqlSession } from './sql';
import { defaultMaintenanceShare } from '../../../extensions/contract/capacityShares';

/**
 * An account's settings document, as an admin last saved it. An account nobody configured has no
 * row: its settings are the DEALGATE_* defaults of the running service (so setting DEALGATE_ADMINS
 * later still makes someone an admin).
 */
export interface StoredSettings {
  settings: Settings;
  updatedAt: number;
  updatedBy: string | null;
}

export interface SettingsRepository {
  get(portalId: number): Promise<StoredSettings | undefined>;
  put(portalId: number, settings: Settings, at: number, by: string): Promise<void>;
  /**
   * Inside a transaction that reads the account's settings to change them: until it ends, another
   * transaction's lockForChange of the account waits, so each change reads what the one before it
   * wrote. PostgreSQL: a transaction-scoped advisory lock (there may be no row to lock yet: defaults
   * are not stored); SQLite runs one transaction at a time, so nothing to do.
   */
  lockForChange(portalId: number): Promise<void>;
}

const get = 'SELECT document, updated_at, updated_by FROM settings WHERE portal_id = ?';
const lockForChange = 'SELECT pg_advisory_xact_lock(hashtextextended(?, 0)) AS locked';
const put = `INSERT INTO settings (portal_id, document, updated_at, updated_by) VALUES (?, ?, ?, ?)
    ON CONFLICT (portal_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at, updated_by = excluded.updated_by`;

export function settingsRepository(sql: SqlSession): SettingsRepository {
  return {
    async get(portalId) {
      const row = await sql.get<{ document: string; updated_at: number; updated_by: string | null }>(get, [portalId]);
      if (!row) return undefined;
      // Documents saved before a setting existed take its default.
      const settings = { amountTolerance: 0.1, afterClose: 'revert', ...(JSON.parse(row.document) as Partial<Settings>) } as Settings;
      const capacity = settings.capacity;
      if (capacity && capacity.maintenanceShare === undefined) settings.capacity = { ...capacity, maintenanceShare: defaultMaintenanceShare(capacity.commitmentShare) };
      return { settings, updatedAt: row.updated_at, updatedBy: row.updated_by };
    },
    async put(portalId, settings, at, by) {
      await sql.run(put, [portalId, JSON.stringify(settings), at, by]);
    },
    async lockForChange(portalId) {
      if (sql.dialect === 'postgres') await sql.get(lockForChange, [`dealgate.settings:${portalId}`]);
    },
  };
}
