import type { ClientBase } from 'pg';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config';
import type { Logger } from '../logger';
import { query } from './rows';

/**
 * The three database roles (docs/security.md, "Database roles"):
 *  - owner: owns the schema; migrations run as it. Never used by the running gateway.
 *  - runtime: the gateway's DB_USER. SELECT/INSERT/UPDATE/DELETE on the gateway's tables, no DDL.
 *  - console: runSql's RUN_SQL_DATABASE_URL user. SELECT on the domain tables only: not api_tokens,
 *    audit_log or the bookkeeping tables, and not the integrations' `configuration` (credentials)
 *    column. Read-only by default, not a member of any role, so it cannot SET ROLE anywhere.
 * `applyRoles` is what `npm run db:init` runs; docker/roles.sql is the same, for operators who
 * create roles themselves.
 */
export interface RoleSpec {
  name: string;
  /** Without a password the role cannot log in (NOLOGIN). */
  password?: string;
}

export interface RolePlan {
  database: string;
  owner: RoleSpec;
  /** Left out when the gateway's DB_USER is the administrator itself (then db:init says so). */
  runtime?: RoleSpec;
  console?: RoleSpec;
  consoleStatementTimeoutMs: number;
  /** work_mem of the console role (kB). */
  consoleWorkMemKb?: number;
  /** temp_file_limit of the console role (kB): a superuser-only setting (or GRANT SET ON PARAMETER, PostgreSQL 15+). */
  consoleTempFileLimitKb?: number;
}

/** Domain tables the console may read, and the columns it must never see. */
export const CONSOLE_TABLES = ['tasks', 'task_executions', 'external_integrations', 'system_metrics'] as const;
export const CONSOLE_HIDDEN_COLUMNS: Record<string, string[]> = { external_integrations: ['configuration'] };

/** Functions that read or write files on the server, or reach other servers; the console must not run them. */
export const FILE_FUNCTIONS = [
  'pg_read_file(text)',
  'pg_read_file(text,bigint,bigint)',
  'pg_read_binary_file(text)',
  'pg_ls_dir(text)',
  'pg_stat_file(text)',
  'lo_import(text)',
  'lo_export(oid,text)',
];
/**
 * pg_catalog functions whose effect outlives the statement that calls them, or reaches other
 * sessions: advisory locks (a session lock stays on the pooled connection; a transaction lock
 * stalls every writer of the change log while the statement runs) and signalling backends. EXECUTE
 * on them is PUBLIC's by default; db:init revokes it from PUBLIC in the gateway's database and grants
 * it back to the owner and runtime roles (the gateway takes advisory locks and cancels its own
 * statements). Privileges on pg_catalog functions are per database, and only a superuser (their
 * owner) may change them: elsewhere runSql's statement check is the only line (docs/security.md).
 */
export const OUTLIVING_FUNCTIONS_SQL = `SELECT p.oid::regprocedure::text AS sig FROM pg_proc p
  WHERE p.pronamespace = 'pg_catalog'::regnamespace
    AND (p.proname ~ '^pg_(try_)?advisory' OR p.proname IN ('pg_terminate_backend', 'pg_cancel_backend'))
  ORDER BY 1`;

/** Built-in roles that reach the server's files or shell. */
export const SERVER_FILE_ROLES = ['pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program'];

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

const ROLE_ATTRIBUTES = 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';

async function ensureRole(client: ClientBase, role: RoleSpec, extra = ''): Promise<void> {
  const { rows } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [role.name]);
  if (rows[0]?.rolsuper) {
    throw new Error(
      `role ${role.name} is a superuser; the gateway's roles must not be. Pick another name, or run ALTER ROLE ${ident(role.name)} NOSUPERUSER`,
    );
  }
  const login = role.password ? `LOGIN PASSWORD ${literal(role.password)}` : 'NOLOGIN';
  await client.query(`${rows.length === 0 ? 'CREATE' : 'ALTER'} ROLE ${ident(role.name)} ${login} ${ROLE_ATTRIBUTES} ${extra}`);
}

/**
 * Creates or updates the roles and their privileges on `plan.database` (the client is connected to
 * it as a superuser, or a role with CREATEROLE that may grant what is granted here). Idempotent.
 * Run it after the migrations too, so the console sees new domain columns (never the hidden ones).
 */
export async function applyRoles(client: ClientBase, plan: RolePlan): Promise<string[]> {
  /** What could not be done with the administrator's rights, for db:init to say. */
  const warnings: string[] = [];
  await ensureRole(client, plan.owner);
  if (plan.runtime) await ensureRole(client, plan.runtime);
  if (plan.console) {
    await ensureRole(client, plan.console, 'NOINHERIT CONNECTION LIMIT 10');
    // Read-only and bounded even on a connection that forgets to say so.
    await client.query(`ALTER ROLE ${ident(plan.console.name)} SET default_transaction_read_only = on`);
    await client.query(`ALTER ROLE ${ident(plan.console.name)} SET statement_timeout = ${Math.floor(plan.consoleStatementTimeoutMs)}`);
    if (plan.consoleWorkMemKb)
      await client.query(`ALTER ROLE ${ident(plan.console.name)} SET work_mem = ${Math.floor(plan.consoleWorkMemKb)}`);
    if (plan.consoleTempFileLimitKb) {
      // PGC_SUSET: the console cannot SET it back; only a superuser (or a grantee of SET ON PARAMETER) may set it here.
      try {
        await client.query(`ALTER ROLE ${ident(plan.console.name)} SET temp_file_limit = ${Math.floor(plan.consoleTempFileLimitKb)}`);
      } catch (error) {
        if ((error as { code?: string }).code !== '42501') throw error;
        warnings.push(
          `could not set temp_file_limit on ${plan.console.name} (needs a superuser, or GRANT SET ON PARAMETER temp_file_limit): runSql statements may write temporary files up to the server's own limit`,
        );
      }
    }
    // A console that is a member of any role could SET ROLE into it: take every membership away.
    const { rows } = await client.query<{ role: string }>(
      `SELECT r.rolname AS role FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`,
      [plan.console.name],
    );
    for (const { role } of rows) await client.query(`REVOKE ${ident(role)} FROM ${ident(plan.console.name)}`);
  }
  const db = ident(plan.database);
  const owner = ident(plan.owner.name);
  await client.query(`ALTER DATABASE ${db} OWNER TO ${owner}`);
  await client.query(`ALTER SCHEMA public OWNER TO ${owner}`);
  // Nobody else creates objects or temporary tables; the roles below get CONNECT explicitly.
  await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
  await client.query(`REVOKE ALL ON SCHEMA public FROM PUBLIC`);
  // Tables made before the owner existed (migrations run as another user) move to it.
  const { rows: foreign } = await client.query<{ kind: string; name: string }>(
    `SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND pg_get_userbyid(c.relowner) <> $1
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))`,
    [plan.owner.name],
  );
  for (const { kind, name } of foreign) await client.query(`ALTER ${kind} public.${ident(name)} OWNER TO ${owner}`);
  const { rows: functions } = await client.query<{ sig: string }>(
    `SELECT p.oid::regprocedure::text AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> $1 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
    [plan.owner.name],
  );
  for (const { sig } of functions) await client.query(`ALTER FUNCTION ${sig} OWNER TO ${owner}`);

  if (plan.runtime) {
    const runtime = ident(plan.runtime.name);
    await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${runtime}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${runtime}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${runtime}`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${runtime}`);
    // Tables later migrations create (as the owner) come with the same rights.
    await client.query(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${runtime}`,
    );
    await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${runtime}`);
    // The retention job's partition functions (migration MetricsPartitions revokes them from PUBLIC).
    for (const sig of ['metrics_ensure_partitions(text, date, date)', 'metrics_drop_partitions(text, date)']) {
      const { rows: found } = await client.query<{ ok: boolean }>(`SELECT to_regprocedure($1) IS NOT NULL AS ok`, [sig]);
      if (found[0]?.ok) await client.query(`GRANT EXECUTE ON FUNCTION ${sig} TO ${runtime}`);
    }
  }
  if (plan.console) {
    const consoleRole = ident(plan.console.name);
    const { rows: me } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    const { rows: outliving } = await client.query<{ sig: string }>(OUTLIVING_FUNCTIONS_SQL);
    if (me[0]?.rolsuper) {
      const keep = [owner, plan.runtime ? ident(plan.runtime.name) : undefined].filter(Boolean).join(', ');
      for (const { sig } of outliving) {
        await client.query(`REVOKE EXECUTE ON FUNCTION ${sig} FROM PUBLIC`);
        await client.query(`GRANT EXECUTE ON FUNCTION ${sig} TO ${keep}`);
        await client.query(`REVOKE EXECUTE ON FUNCTION ${sig} FROM ${consoleRole}`);
      }
    } else {
      warnings.push(
        `not a superuser: EXECUTE on advisory-lock and pg_cancel/terminate_backend functions stays PUBLIC's, so ${plan.console.name} keeps it; runSql's statement check refuses them`,
      );
    }
    await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${consoleRole}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${consoleRole}`);
    await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${consoleRole}`);
    await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${consoleRole}`);
    for (const table of CONSOLE_TABLES) {
      const { rows: columns } = await client.query<{ name: string }>(
        `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
      if (columns.length === 0) continue; // not migrated yet
      const hidden = CONSOLE_HIDDEN_COLUMNS[table] ?? [];
      if (hidden.length === 0) {
        await client.query(`GRANT SELECT ON public.${ident(table)} TO ${consoleRole}`);
      } else {
        // Column-level: a new column is invisible to the console until db:init runs again.
        const visible = columns.map((c) => c.name).filter((c) => !hidden.includes(c));
        await client.query(`GRANT SELECT (${visible.map(ident).join(', ')}) ON public.${ident(table)} TO ${consoleRole}`);
      }
    }
  }
  return warnings;
}

export interface ConsoleRoleReport {
  user: string;
  problems: string[];
  /**
   * Outliving functions (OUTLIVING_FUNCTIONS_SQL) the role may still execute: db:init could not
   * revoke them (not a superuser). runSql's checker refuses them; logged as a warning at start.
   */
  cautions: string[];
}

/**
 * What is wrong with the role a connection runs as, for a SQL console: superuser, able to become
 * one (a membership: SET ROLE or set_config('role', ...) would switch into it), CREATEROLE (it could
 * grant itself any role), a server-file role, EXECUTE on a file function, or read access to tokens
 * or credentials. Empty when the role is fit for runSql.
 */
export async function inspectConsoleRole(client: ClientBase): Promise<ConsoleRoleReport> {
  const { rows } = await client.query<{ user: string; problem: string | null }>(
    `WITH me AS (SELECT r.* FROM pg_roles r WHERE r.rolname = session_user)
     SELECT (SELECT rolname FROM me) AS user, problem FROM (
       SELECT 'is a superuser' AS problem FROM me WHERE rolsuper
       UNION ALL SELECT 'has CREATEROLE (it could grant itself any role)' FROM me WHERE rolcreaterole
       UNION ALL SELECT 'can SET ROLE to the superuser ' || r.rolname FROM pg_roles r, me
                  WHERE r.rolsuper AND r.oid <> me.oid AND pg_has_role(me.oid, r.oid, 'MEMBER')
       UNION ALL SELECT 'is a member of ' || r.rolname FROM pg_roles r, me
                  WHERE r.rolname = ANY($1::text[]) AND pg_has_role(me.oid, r.oid, 'MEMBER')
       UNION ALL SELECT 'may execute ' || f FROM unnest($2::text[]) f, me
                  WHERE to_regprocedure(f) IS NOT NULL AND has_function_privilege(me.oid, to_regprocedure(f), 'EXECUTE') AND NOT me.rolsuper
       UNION ALL SELECT 'may read api_tokens' FROM me
                  WHERE to_regclass('public.api_tokens') IS NOT NULL AND has_table_privilege(me.oid, 'public.api_tokens', 'SELECT')
       UNION ALL SELECT 'may read external_integrations.configuration (credentials)' FROM me
                  WHERE to_regclass('public.external_integrations') IS NOT NULL
                    AND has_column_privilege(me.oid, 'public.external_integrations', 'configuration', 'SELECT')
     ) p`,
    [SERVER_FILE_ROLES, FILE_FUNCTIONS],
  );
  const user = rows[0]?.user ?? (await client.query<{ u: string }>('SELECT session_user AS u')).rows[0].u;
  const { rows: outliving } = await client.query<{ sig: string }>(
    `SELECT sig FROM (${OUTLIVING_FUNCTIONS_SQL}) f WHERE has_function_privilege(session_user, f.sig::regprocedure, 'EXECUTE')
        AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)`,
  );
  return {
    user,
    problems: rows.map((r) => r.problem).filter((p): p is string => p !== null),
    cautions: outliving.map((r) => r.sig),
  };
}

/**
 * At start-up: a warning when the gateway itself runs as a superuser (or a member of one) on a
 * database of its operator's; it needs only the runtime role's DML. (runSql's console role is
 * checked by the console itself: SqlConsole.checkRole.)
 */
export async function warnIfSuperuser(db: DataSource, config: DatabaseConfig, logger: Logger): Promise<void> {
  const [me] = await query<{ user: string; superuser: boolean }>(
    db,
    `SELECT session_user AS "user", EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolsuper AND pg_has_role(session_user, r.oid, 'MEMBER')) AS "superuser"`,
  );
  if (me?.superuser && !config.embedded) {
    logger.warn(
      `the gateway connects to PostgreSQL as "${me.user}", a superuser (or a member of one); it needs only DML. Create the runtime role with \`npm run db:init\` (or docker/roles.sql) and set DB_USER/DB_PASSWORD (or DATABASE_URL) to it`,
    );
  }
}
