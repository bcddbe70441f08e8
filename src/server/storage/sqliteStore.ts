import { checkWritable, type Db } from './db';
import type { AccountRecord, AccountRepository, Store } from './store';
import { sqliteInbox } from '../webhooks/inboxStore';
import { sqliteViolations } from '../webhooks/violationStore';
import { sqliteOutbox } from '../outbox/outboxStore';
import { sqliteSettings } from './settingsStore';
import { sqlitePipelines } from './pipelineStore';
import { sqliteDealSnapshots } from './dealSnapshotStore';
import { sqliteReviews } from './reviewStore';
import { sqliteAudit } from './auditStore';
import { sqliteSweeps } from './sweepStore';
import { sqliteSettingsChanges } from './settingsChangeStore';
import { sqliteDealFlags } from './dealFlagStore';
import { sqliteSeenSignatures } from './seenSignatureStore';
import { sqliteOAuthStates } from '../oauth/oauthStateStore';

interface AccountRow {
  portal_id: number;
  auth_mode: 'oauth' | 'static';
  access_token_enc: string | null;
  refresh_token_enc: string | null;
  token_expires_at: number | null;
  scopes: string | null;
  installed_at: number;
  provisioned_at: number | null;
  updated_at: number;
}

function sqliteAccounts(db: Db): AccountRepository {
  const get = db.prepare<[number], AccountRow>('SELECT * FROM accounts WHERE portal_id = ?');
  const upsert = db.prepare(`
    INSERT INTO accounts (portal_id, auth_mode, access_token_enc, refresh_token_enc, token_expires_at, scopes, installed_at, provisioned_at, updated_at)
    VALUES (@portalId, @authMode, @accessTokenEnc, @refreshTokenEnc, @tokenExpiresAt, @scopes, @installedAt, @provisionedAt, @updatedAt)
    ON CONFLICT (portal_id) DO UPDATE SET
      auth_mode = excluded.auth_mode, access_token_enc = excluded.access_token_enc,
      refresh_token_enc = excluded.refresh_token_enc, token_expires_at = excluded.token_expires_at,
      scopes = excluded.scopes, updated_at = excluded.updated_at`);
  const markProvisioned = db.prepare('UPDATE accounts SET provisioned_at = ?, updated_at = ? WHERE portal_id = ?');
  return {
    get(portalId) {
      const row = get.get(portalId);
      if (!row) return undefined;
      return {
        portalId: row.portal_id,
        authMode: row.auth_mode,
        accessTokenEnc: row.access_token_enc,
        refreshTokenEnc: row.refresh_token_enc,
        tokenExpiresAt: row.token_expires_at,
        scopes: row.scopes,
        installedAt: row.installed_at,
        provisionedAt: row.provisioned_at,
        updatedAt: row.updated_at,
      };
    },
    upsert(record: AccountRecord) {
      upsert.run(record);
    },
    markProvisioned(portalId, at) {
      markProvisioned.run(at, at, portalId);
    },
  };
}

export function createSqliteStore(db: Db): Store {
  const ping = db.prepare('SELECT 1').pluck();
  return {
    accounts: sqliteAccounts(db),
    inbox: sqliteInbox(db),
    outbox: sqliteOutbox(db),
    gateViolations: sqliteViolations(db),
    settings: sqliteSettings(db),
    pipelines: sqlitePipelines(db),
    deals: sqliteDealSnapshots(db),
    reviews: sqliteReviews(db),
    audit: sqliteAudit(db),
    settingsChanges: sqliteSettingsChanges(db),
    dealFlags: sqliteDealFlags(db),
    sweeps: sqliteSweeps(db),
    seenSignatures: sqliteSeenSignatures(db),
    oauthStates: sqliteOAuthStates(db),
    transaction: (work) => db.transaction(work)(),
    ping: () => {
      try {
        return ping.get() === 1;
      } catch {
        return false;
      }
    },
    writable: () => (db.open ? checkWritable(db) : { ok: false, code: 'closed', message: 'the database is closed' }),
    close: () => db.close(),
  };
}
