import 'reflect-metadata';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config';
import { dataSourceOptions } from '../src/db/data-source';
import { catalogue } from '../src/catalogue';
import { SEQUENCE_CHANGES } from '../src/subscriptions/change-log';
import { createTestDatabase, type TestDatabase } from './support/database';

/*
 * Migration ChangeLogWithoutLock1767300000000: writers of the logged tables take no lock for the
 * change log; the sequencer numbers committed rows, and a reader of `seq > N` (after running it)
 * still never misses a row, in per-row order, whoever commits when.
 */
let db: TestDatabase;
let ds: DataSource;
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  ds = new DataSource(dataSourceOptions(loadConfig({ DATABASE_URL: db.url }).db, catalogue));
  await ds.initialize();
  await ds.runMigrations();
});
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  await ds?.destroy();
  await db?.drop();
});

async function connection(): Promise<Client> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  clients.push(client);
  return client;
}

/** Runs the sequencer; how many rows it numbered (null: another one was running). */
const sequence = async () => (await db.query(SEQUENCE_CHANGES))[0].n as string | null;
const seqOf = async (rowId: string, op = 'INSERT') =>
  (await db.query(`SELECT seq::text AS seq FROM change_log WHERE row_id = $1 AND operation = $2`, [rowId, op]))[0]?.seq as string | null;
const newTask = async (c: Client, title: string) =>
  (await c.query(`INSERT INTO tasks (title) VALUES ($1) RETURNING id`, [title])).rows[0].id as string;

it('two writers with open transactions do not wait for each other', async () => {
  const [a, b] = [await connection(), await connection()];
  await a.query('BEGIN');
  await b.query('BEGIN');
  await newTask(a, 'first writer');
  // Under the old lock this INSERT waited until `a` committed (the statement timeout makes a wait fail).
  await b.query(`SET LOCAL statement_timeout = '2s'`);
  await newTask(b, 'second writer');
  await b.query('COMMIT');
  await a.query('COMMIT');
});

it('a row gets its seq only when committed, above every seq given while its transaction ran', async () => {
  const long = await connection();
  const other = await connection();
  await long.query('BEGIN');
  const early = await newTask(long, 'long transaction');
  await sequence();
  const later = await newTask(other, 'committed first');
  await sequence();
  expect(await seqOf(early)).toBeUndefined(); // not visible yet, so not numbered; nothing waits for it
  const cursor = Number(await seqOf(later));
  expect(cursor).toBeGreaterThan(0);
  expect(await db.query(`SELECT 1 FROM change_log WHERE seq > $1`, [cursor])).toHaveLength(0);
  await long.query('COMMIT');
  expect(await sequence()).toBe('1');
  // A reader at `cursor` (it has read everything up to the later task) still gets the earlier one.
  expect(Number(await seqOf(early))).toBe(cursor + 1);
});

it('keeps per-row order when the second writer of a row drew its transaction id first', async () => {
  const task = await newTask(await connection(), 'contended');
  await sequence();
  const [first, second] = [await connection(), await connection()];
  await second.query('BEGIN');
  await newTask(second, 'second writer starts earlier'); // its xid is the older one
  await first.query('BEGIN');
  await first.query(`UPDATE tasks SET title = 'first change' WHERE id = $1`, [task]);
  const waiting = second.query(`UPDATE tasks SET title = 'second change' WHERE id = $1`, [task]);
  await new Promise((r) => setTimeout(r, 100));
  await first.query('COMMIT');
  await waiting;
  await second.query('COMMIT');
  await sequence();
  const updates = await db.query(`SELECT seq::int AS seq FROM change_log WHERE row_id = $1 AND operation = 'UPDATE' ORDER BY id`, [task]);
  expect(updates).toHaveLength(2);
  expect(updates[0].seq).toBeLessThan(updates[1].seq);
});

it('a second sequencer while one runs returns null and numbers nothing', async () => {
  const holder = await connection();
  await holder.query('BEGIN');
  await holder.query(SEQUENCE_CHANGES);
  await newTask(await connection(), 'while the sequencer runs');
  expect(await sequence()).toBeNull();
  await holder.query('COMMIT');
  expect(await sequence()).toBe('1');
});

it('refuses to number inside a REPEATABLE READ transaction (its snapshot would predate the lock)', async () => {
  const c = await connection();
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  await expect(c.query(SEQUENCE_CHANGES)).rejects.toThrow(/READ COMMITTED/);
  await c.query('ROLLBACK');
});

it('8 writers and 2 readers running the sequencer: each reader sees every row once, seqs gap-free and increasing', async () => {
  await sequence();
  const start = Number((await db.query(`SELECT coalesce(max(seq), 0)::int AS s FROM change_log`))[0].s);
  const writers = await Promise.all(Array.from({ length: 8 }, () => connection()));
  const readers = await Promise.all(Array.from({ length: 2 }, () => connection()));
  let writing = true;
  const read = async (c: Client) => {
    const seen: number[] = [];
    let cursor = start;
    for (;;) {
      const done = !writing;
      const numbered = (await c.query(SEQUENCE_CHANGES)).rows[0].n;
      const { rows } = await c.query(`SELECT seq::int AS seq FROM change_log WHERE seq > $1 ORDER BY seq LIMIT 500`, [cursor]);
      for (const r of rows) seen.push(r.seq);
      if (rows.length > 0) cursor = rows[rows.length - 1].seq;
      // Done when this reader's own sequencer ran after every writer committed (null: another one
      // was running, whose numbers may have come after this read) and left nothing to read.
      if (done && numbered !== null && rows.length === 0) return seen;
    }
  };
  const reading = readers.map(read);
  await Promise.all(
    writers.map(async (w, i) => {
      for (let k = 0; k < 25; k++) {
        await w.query('BEGIN');
        await newTask(w, `w${i}-${k}-a`);
        await newTask(w, `w${i}-${k}-b`);
        await w.query('COMMIT');
      }
    }),
  );
  writing = false;
  const seen = await Promise.all(reading);
  const total = Number((await db.query(`SELECT count(*)::int AS n FROM change_log WHERE seq > $1`, [start]))[0].n);
  expect(total).toBe(8 * 25 * 2);
  for (const s of seen) expect(s).toEqual(Array.from({ length: total }, (_, i) => start + 1 + i));
});

it('down() numbers what is left and restores the lock; up() again keeps every seq', async () => {
  const pending = await newTask(await connection(), 'not numbered before down');
  const before = await db.query(`SELECT seq::int AS seq FROM change_log WHERE seq IS NOT NULL ORDER BY seq`);
  const last = before[before.length - 1].seq as number;
  await ds.undoLastMigration();
  const fn = (await db.query(`SELECT prosrc FROM pg_proc WHERE proname = 'change_log_add'`))[0].prosrc;
  expect(fn).toMatch(/pg_advisory_xact_lock/);
  expect(Number(await seqOf(pending))).toBe(last + 1);
  const afterDown = await newTask(await connection(), 'under the lock again');
  expect(Number(await seqOf(afterDown))).toBe(last + 2);
  await ds.runMigrations();
  const again = await newTask(await connection(), 'without the lock again');
  expect(await seqOf(again)).toBeNull();
  await sequence();
  expect(Number(await seqOf(again))).toBe(last + 3);
  const kept = await db.query(`SELECT seq::int AS seq FROM change_log WHERE seq <= $1 ORDER BY seq`, [before[before.length - 1].seq]);
  expect(kept).toEqual(before);
});
