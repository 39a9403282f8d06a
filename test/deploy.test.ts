import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { VARIABLES } from '../src/config';

/**
 * No Docker engine here, so the deployment files are checked for what can go wrong without one:
 * the compose file parses and uses only documented variables, the Dockerfile runs commands that
 * exist, and .env.example lists exactly the variables the gateway reads.
 */
const ROOT = join(__dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const pkg = JSON.parse(read('package.json'));

/** Variable names in .env.example (`NAME=` or `#NAME=`), each preceded by a comment giving its default. */
function envExample(): Map<string, string> {
  const lines = read('.env.example').split('\n');
  const vars = new Map<string, string>();
  lines.forEach((line, i) => {
    const m = /^#?([A-Z][A-Z0-9_]*)=/.exec(line);
    if (m) vars.set(m[1], lines[i - 1] ?? '');
  });
  return vars;
}

describe('.env.example', () => {
  it('lists exactly the variables src/config/variables.ts defines (src/config/config.test.ts: exactly those are read)', () => {
    const listed = [...envExample().keys()].sort();
    expect(listed).toEqual(Object.keys(VARIABLES).sort());
  });

  it('gives each variable its meaning and default in the comment above it', () => {
    for (const [name, comment] of envExample()) {
      expect([name, /^# \S.*Default: \S/.test(comment)]).toEqual([name, true]);
    }
  });
});

describe('docker/docker-compose.yml', () => {
  const text = read('docker/docker-compose.yml');
  const compose = parse(text, { merge: true });

  it('parses, with PostgreSQL, a migration job, the gateway, cloudflared and a read replica', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['cloudflared', 'db', 'db-replica', 'gateway', 'migrate']);
    expect(compose.services.db.image).toMatch(/^postgres:\d+/);
    expect(compose.services.cloudflared.image).toMatch(/^cloudflare\/cloudflared:\d{4}\.\d+\.\d+$/);
    for (const name of ['gateway', 'migrate'])
      expect(compose.services[name].build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
  });

  it('clones the replica with pg_basebackup -R from db, which lets replication connections in', () => {
    const replica = compose.services['db-replica'];
    expect(replica.profiles).toEqual(['replica']);
    expect(replica.image).toBe(compose.services.db.image);
    expect(replica.command.join('\n')).toMatch(/pg_basebackup -h db -D "\$\$PGDATA" -R -X stream -S taskmaster_replica_1/);
    expect(replica.depends_on).toEqual({ db: { condition: 'service_healthy' } });
    expect(compose.services.db.volumes).toContain('./pg_hba.conf:/etc/postgresql/pg_hba.conf:ro');
    expect(read('docker/pg_hba.conf')).toMatch(/^host\s+replication\s+all\s+all\s+scram-sha-256$/m);
  });

  it('names only variables that .env.example lists', () => {
    const listed = new Set(envExample().keys());
    // ${NAME}, ${NAME:-default}, ${NAME:?message} in any value; $$ is a literal dollar for the container's shell.
    const values: string[] = [];
    const walk = (node: unknown): void => {
      if (typeof node === 'string') values.push(node);
      else if (node && typeof node === 'object') Object.entries(node).forEach(([key, value]) => (values.push(key), walk(value)));
    };
    walk(compose);
    const interpolated = values.flatMap((v) => [...v.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
    const set = Object.keys(compose['x-gateway-env']);
    expect(interpolated.length).toBeGreaterThan(0);
    expect([...new Set([...interpolated, ...set])].filter((name) => !listed.has(name))).toEqual([]);
  });

  it('runs the migrations before the gateway starts, with commands package.json has', () => {
    const { migrate, gateway } = compose.services;
    // db:init: roles, then the migrations as the owner role, then grants (scripts/db-init.ts).
    expect(migrate.command).toEqual(['npm', 'run', 'db:init:prod']);
    expect(pkg.scripts['db:init:prod']).toBe('node dist/scripts/db-init.js');
    expect(migrate.environment.DB_ADMIN_PASSWORD).toMatch(/DB_ADMIN_PASSWORD/);
    expect(gateway.environment.DB_ADMIN_PASSWORD).toBe('');
    expect(pkg.dependencies.typeorm).toBeDefined(); // the CLI is in the production dependencies
    expect(gateway.depends_on.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(gateway.depends_on.db).toEqual({ condition: 'service_healthy' });
    expect(gateway.environment.DB_RUN_MIGRATIONS).toBe('false');
    expect(gateway.command).toEqual(pkg.scripts['start:prod'].split(' '));
  });

  it('gives cloudflared the generated config and the credentials, read-only, once the gateway is healthy', () => {
    const { cloudflared, gateway } = compose.services;
    const configFile = gateway.environment.CLOUDFLARE_CONFIG_FILE;
    const credentials = gateway.environment.CLOUDFLARE_CREDENTIALS_FILE;
    expect(cloudflared.command).toEqual(['tunnel', '--config', configFile, 'run']);
    const mountOf = (volumes: string[], file: string) => volumes.find((v) => file.startsWith(`${v.split(':')[1]}/`));
    expect(mountOf(cloudflared.volumes, configFile)).toMatch(/^tunnel-config:.*:ro$/);
    expect(mountOf(gateway.volumes, configFile)).toMatch(/^tunnel-config:[^:]*$/); // the gateway writes it
    expect(mountOf(cloudflared.volumes, credentials)).toMatch(/:ro$/);
    expect(mountOf(gateway.volumes, credentials)).toMatch(/:ro$/);
    expect(gateway.environment.CLOUDFLARE_ORIGIN_HOST).toBe('gateway');
    expect(cloudflared.depends_on.gateway).toEqual({ condition: 'service_healthy' });
  });
});

describe('docker/Dockerfile', () => {
  const text = read('docker/Dockerfile');
  const instructions = text.split('\n').filter((l) => /^[A-Z]+\s/.test(l));

  it('builds in stages and runs production dependencies only, as a non-root user', () => {
    expect(instructions.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/RUN npm ci --omit=dev/);
    expect(text).toMatch(/RUN npm run build/);
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/\nUSER node\n/);
    expect(runtime).not.toMatch(/COPY --from=build \/app\/node_modules/);
  });

  it('checks /health and starts the compiled entry point that npm run start:prod names', () => {
    expect(text).toMatch(/HEALTHCHECK [^\n]*\\\n\s+CMD \[.*\/health/);
    const cmd = instructions.find((l) => l.startsWith('CMD '))!;
    expect(JSON.parse(cmd.slice(4)).join(' ')).toBe(pkg.scripts['start:prod']);
    // `npm run build` compiles src/main.ts to dist/src/main.js (tsconfig.build.json: rootDir ".", outDir "dist").
    const build = { ...JSON.parse(read('tsconfig.json')).compilerOptions, ...JSON.parse(read('tsconfig.build.json')).compilerOptions };
    expect([build.rootDir, build.outDir]).toEqual(['.', 'dist']);
    expect(pkg.scripts['start:prod']).toBe('node --max-semi-space-size=32 dist/src/main.js');
    expect(statSync(join(ROOT, 'src', 'main.ts')).isFile()).toBe(true);
  });
});
