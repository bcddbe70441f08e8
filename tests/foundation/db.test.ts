import { join } from 'node:path';
import { createDb, migrate } from '../../src/server/storage/db';
import { migrations } from '../../src/server/storage/migrations';
import { tempDir } from '../support/env';

describe('createDb', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  it('creates the file and its folder, in WAL mode with foreign keys on', () => {
    const db = createDb(join(dir.path, 'nested', 'dealgate.db'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });

  it('applies every migration once and records it', () => {
    const path = join(dir.path, 'dealgate.db');
    const db = createDb(path);
    const recorded = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(recorded).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })));
    expect(migrate(db, migrations)).toEqual([]);
    db.close();
    const reopened = createDb(path);
    expect(reopened.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(migrations.length);
    reopened.close();
  });

  it('rolls back a failing migration whole', () => {
    const db = createDb(join(dir.path, 'dealgate.db'));
    const broken = { version: 999, name: 'broken', sql: 'CREATE TABLE half_done (id INTEGER); SELECT * FROM no_such_table;' };
    expect(() => migrate(db, [...migrations, broken])).toThrow(/no_such_table/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).toBeUndefined();
    expect(db.prepare('SELECT 1 FROM schema_migrations WHERE version = 999').get()).toBeUndefined();
    db.close();
  });

  it('keeps the audit log append-only', () => {
    const db = createDb(join(dir.path, 'dealgate.db'));
    db.prepare("INSERT INTO audit_log (portal_id, deal_id, action, actor, at) VALUES (1, 'd1', 'requested', '7', 0)").run();
    expect(() => db.prepare("UPDATE audit_log SET actor = 'x'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    db.close();
  });

  it('deduplicates inbox events per account by their key', () => {
    const db = createDb(join(dir.path, 'dealgate.db'));
    const insert = db.prepare(`INSERT OR IGNORE INTO webhook_inbox
      (portal_id, event_key, object_id, subscription_type, occurred_at, payload, received_at)
      VALUES (?, ?, 'd1', 'deal.propertyChange', 0, '{}', 0)`);
    expect(insert.run(1, 'evt-1').changes).toBe(1);
    expect(insert.run(1, 'evt-1').changes).toBe(0);
    expect(insert.run(2, 'evt-1').changes).toBe(1);
    db.close();
  });
});
