import type { SqlSession } from './sql';
import type { AccountRecord, AccountRepository } from './store';

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

const get = 'SELECT * FROM accounts WHERE portal_id = ?';
const upsert = `
    INSERT INTO accounts (portal_id, auth_mode, access_token_enc, refresh_token_enc, token_expires_at, scopes, installed_at, provisioned_at, updated_at)
    VALUES (@portalId, @authMode, @accessTokenEnc, @refreshTokenEnc, @tokenExpiresAt, @scopes, @installedAt, @provisionedAt, @updatedAt)
    ON CONFLICT (portal_id) DO UPDATE SET
      auth_mode = excluded.auth_mode, access_token_enc = excluded.access_token_enc,
      refresh_token_enc = excluded.refresh_token_enc, token_expires_at = excluded.token_expires_at,
      scopes = excluded.scopes, updated_at = excluded.updated_at`;
const markProvisioned = 'UPDATE accounts SET provisioned_at = ?, updated_at = ? WHERE portal_id = ?';

export function accountRepository(sql: SqlSession): AccountRepository {
  return {
    async get(portalId) {
      const row = await sql.get<AccountRow>(get, [portalId]);
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
    async upsert(r: AccountRecord) {
      await sql.run(upsert, {
        portalId: r.portalId,
        authMode: r.authMode,
        accessTokenEnc: r.accessTokenEnc,
        refreshTokenEnc: r.refreshTokenEnc,
        tokenExpiresAt: r.tokenExpiresAt,
        scopes: r.scopes,
        installedAt: r.installedAt,
        provisionedAt: r.provisionedAt,
        updatedAt: r.updatedAt,
      });
    },
    async markProvisioned(portalId, at) {
      await sql.run(markProvisioned, [at, at, portalId]);
    },
  };
}

