-- taskmaster-gateway's database roles, for operators who create roles themselves (what
-- `npm run db:init` does; src/db/database-roles.ts is the code). Run as a superuser, connected to
-- the gateway's database, with psql variables for the names and passwords:
--
--   psql "postgres://postgres@db-host/taskmaster" -v ON_ERROR_STOP=1 \
--     -v db=taskmaster -v owner=taskmaster_owner -v app=taskmaster_app -v app_password='…' \
--     -v console=taskmaster_console -v console_password='…' -f docker/roles.sql
--
-- then apply the migrations as the owner (e.g. DB_USER=postgres with PGOPTIONS='-c role=taskmaster_owner'
-- npm run db:migrate, or give the owner a password) and run this file again: the grants on
-- existing tables are made per table, so new tables need it (or `npm run db:init`).
--
--   owner   owns the schema; migrations run as it; never used by the running gateway
--   app     the gateway's DB_USER: SELECT/INSERT/UPDATE/DELETE on its tables, no DDL
--   console runSql's RUN_SQL_DATABASE_URL user: SELECT on tasks, task_executions, system_metrics
--           and external_integrations without its `configuration` (credentials) column; read-only
--           by default; no role memberships, so SET ROLE / set_config('role', …) lead nowhere.

CREATE ROLE :"owner" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"console" LOGIN PASSWORD :'console_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  NOINHERIT CONNECTION LIMIT 10;
ALTER ROLE :"console" SET default_transaction_read_only = on;
ALTER ROLE :"console" SET statement_timeout = 5000;
ALTER ROLE :"console" SET work_mem = '16MB';
-- A superuser setting: the console cannot raise it. A 1 GB temp-file sort is cut at 256 MB.
ALTER ROLE :"console" SET temp_file_limit = '256MB';

ALTER DATABASE :"db" OWNER TO :"owner";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

GRANT CONNECT ON DATABASE :"db" TO :"app", :"console";
GRANT USAGE ON SCHEMA public TO :"app", :"console";

-- The runtime role: DML on every table, now and on those later migrations create.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";

-- The console role: the domain tables only, never api_tokens, audit_log or the credentials column
-- (column-level grant: list every column of external_integrations except `configuration`).
GRANT SELECT ON tasks, task_executions, system_metrics TO :"console";
GRANT SELECT (id, integration_type, integration_name, credentials_hint, has_credentials, status, health_status,
              rate_limit_per_minute, created_at, updated_at) ON external_integrations TO :"console";
-- pg_read_file, pg_ls_dir, lo_import/lo_export and COPY to or from files and programs need superuser
-- or pg_read_server_files / pg_write_server_files / pg_execute_server_program: grant none of them.

-- Nothing the console does may outlive its statement or reach other sessions: advisory locks (the
-- change log's lock stalls every writer) and pg_cancel/terminate_backend are PUBLIC's by default;
-- take them from PUBLIC in this database and give them back to the owner and the runtime role.
SELECT format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', p.oid::regprocedure),
       format('GRANT EXECUTE ON FUNCTION %s TO %I, %I', p.oid::regprocedure, :'owner', :'app')
  FROM pg_proc p
 WHERE p.pronamespace = 'pg_catalog'::regnamespace
   AND (p.proname ~ '^pg_(try_)?advisory' OR p.proname IN ('pg_terminate_backend', 'pg_cancel_backend'))
\gexec
