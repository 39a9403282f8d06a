import 'reflect-metadata';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config';
import { dataSourceOptions } from '../src/db/data-source';
import { catalogue } from '../src/catalogue';
import { createTestDatabase, type TestDatabase } from './support/database';

/*
 * Migration ChangeLogWithoutNotify1765000000000: writes to the logged tables send no NOTIFY (a
 * notifying transaction commits only after every other one has), while the change log and its
 * function's guarantees stay; its down() brings the NOTIFY back.
 */
let db: TestDatabase;
let ds: DataSource;
let listener: Client;
const heard: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  ds = new DataSource(dataSourceOptions(loadConfig({ DATABASE_URL: db.url }).db, catalogue));
  await ds.initialize();
  await ds.runMigrations();
  listener = new Client({ connectionString: db.url });
  await listener.connect();
  listener.on('notification', (n) => heard.push(n.channel));
  await listener.query('LISTEN taskmaster_changes');
});
afterAll(async () => {
  await listener?.end();
  await ds?.destroy();
  await db?.drop();
});

/** Inserts a task, waits a moment, and says how many notifications arrived meanwhile. */
async function notificationsForAnInsert(title: string): Promise<number> {
  heard.length = 0;
  await db.query(`INSERT INTO tasks (title) VALUES ($1)`, [title]);
  await listener.query('SELECT 1'); // notifications are delivered between statements
  await new Promise((r) => setTimeout(r, 100));
  return heard.length;
}

const fn = async () => (await db.query(`SELECT prosrc, prosecdef, proconfig FROM pg_proc WHERE proname = 'change_log_add'`))[0];

it('change_log_add logs the row as its owner, without pg_notify and (since ChangeLogWithoutLock) without a lock', async () => {
  const before = Number((await db.query(`SELECT count(*) AS n FROM change_log`))[0].n);
  expect(await notificationsForAnInsert('no notify')).toBe(0);
  expect(Number((await db.query(`SELECT count(*) AS n FROM change_log`))[0].n)).toBe(before + 1);
  const { prosrc, prosecdef, proconfig } = await fn();
  expect(prosrc).not.toMatch(/pg_notify/);
  expect(prosrc).not.toMatch(/pg_advisory/);
  expect(prosecdef).toBe(true);
  expect(proconfig).toEqual(['search_path=public, pg_temp']);
});

it('down() restores the NOTIFY; up() removes it again', async () => {
  while ((await ds.query(`SELECT 1 FROM typeorm_migrations WHERE name = 'ChangeLogWithoutNotify1765000000000'`)).length > 0)
    await ds.undoLastMigration();
  expect(await notificationsForAnInsert('notify again')).toBe(1);
  expect((await fn()).prosecdef).toBe(true);
  await ds.runMigrations();
  expect(await notificationsForAnInsert('no notify again')).toBe(0);
});
