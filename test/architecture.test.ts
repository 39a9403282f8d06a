import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cycles, importGraph, type ImportEdge } from './support/import-graph';

/*
 * Layers one way. Every file of src/ is on one floor of the house below, and imports only run
 * downwards or within a floor, without a cycle:
 *
 * - the composition root (top) names every feature, builds their services and hands them, their
 *   resolvers and the planner's node types to the shared machinery at start-up;
 * - the features: what the gateway is for, one folder each. A feature may use another (executions
 *   use tasks) and any shared machinery, never the root;
 * - the shared machinery, which names no feature: what it needs of them it declares itself
 *   (graphql/features.ts, SchemaParts in graphql/schema.ts, TokenVerifier in
 *   security/authenticate.ts) and the root fills it in. Its own floors, from the top: HTTP on
 *   node:http; the security layer (who is calling, limits, cost, budgets),
 *   which plugs into GraphQL; the GraphQL machinery; the database; configuration, errors, logging
 *   and the request scope; and at the bottom auth/, the vocabulary of principals and roles.
 *
 * `import type` counts too: erased at run time it creates no cycle there, but a type import is
 * still knowledge of the other side, and the layers are about what each side knows.
 */
const FLOORS: { name: string; members: string[] }[] = [
  { name: 'composition root', members: ['main.ts', 'gateway.ts', 'services.ts', 'catalogue.ts'] },
  {
    name: 'features',
    members: [
      'tasks/',
      'executions/',
      'integrations/',
      'metrics/',
      'audit/',
      'tokens/',
      'health/',
      'ide/',
      'idempotency/',
      'node/',
      'subscriptions/',
      'tunnel/',
      'seed/',
      'secrets/',
      'queue/',
      'webhooks/',
      'retention/',
      'console/',
    ],
  },
  { name: 'HTTP', members: ['http/'] },
  { name: 'security', members: ['security/'] },
  { name: 'GraphQL', members: ['graphql/'] },
  { name: 'database', members: ['db/'] },
  { name: 'base', members: ['config/', 'errors.ts', 'logger.ts', 'redact.ts', 'request.ts'] },
  { name: 'principals and roles', members: ['auth/'] },
];

/** The floor a file is on, counted from the top (0: the composition root), or -1 for none. */
function floorOf(file: string): number {
  return FLOORS.findIndex((f) => f.members.some((m) => (m.endsWith('/') ? file.startsWith(m) : file === m)));
}

/** An import running back up: to a floor above its own. */
const upward = (e: ImportEdge) => floorOf(e.to) < floorOf(e.from);

const name = (e: ImportEdge) => `${e.from} -> ${e.to}${e.typeOnly ? ' (import type)' : ''}`;

/**
 * node:http (and node:https) belong to src/http/: the server, its router, the GraphQL endpoint, body
 * reading, guards and drain. Routes and the WebSocket upgrade (subscriptions/ws-upgrade.ts) use the
 * types src/http/ names (HttpRequest, HttpResponse, HttpServer). The one exception: the webhook
 * sender, an outbound HTTP client, not the server.
 */
const NODE_HTTP_CLIENTS = ['webhooks/webhook.http.ts', 'webhooks/webhook.delivery.ts'];

describe('architecture: node:http only in src/http/', () => {
  it('has no import of node:http or node:https outside src/http/ but the webhook sender', () => {
    const src = join(__dirname, '..', 'src');
    const offenders = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.startsWith('http/') && !NODE_HTTP_CLIENTS.includes(f))
      .filter((f) => /from 'node:https?'|require\('node:https?'\)/.test(readFileSync(join(src, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('architecture: layers one way (src/)', () => {
  const edges = importGraph(join(__dirname, '..', 'src')).filter((e) => !e.to.startsWith('..')); // migrations/ lie outside src/
  const files = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();

  it('reads the import graph', () => {
    // A parser that found nothing would pass every rule below.
    expect(files.length).toBeGreaterThan(100);
    expect(edges.filter((e) => e.typeOnly).length).toBeGreaterThan(10);
    expect(edges).toContainEqual({ from: 'gateway.ts', to: 'services.ts', typeOnly: false });
  });

  it('puts every file on a floor', () => {
    expect(files.filter((f) => floorOf(f) === -1)).toEqual([]);
  });

  it('has no import running back up: the shared machinery imports no feature, nothing imports the root', () => {
    expect(edges.filter(upward).map((e) => `${name(e)}: ${FLOORS[floorOf(e.from)].name} -> ${FLOORS[floorOf(e.to)].name}`)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(edges).map((c) => c.join(' <-> '))).toEqual([]);
  });

  it('has no cycle between folders either (one room of the house reaches another one way)', () => {
    const room = (file: string) => (file.includes('/') ? `${file.split('/')[0]}/` : file);
    const between = edges.filter((e) => room(e.from) !== room(e.to));
    expect(cycles(between.map((e) => ({ from: room(e.from), to: room(e.to) }))).map((c) => c.join(' <-> '))).toEqual([]);
  });

  it('keeps SQL out of resolvers: a resolver imports from src/db/ only types (its reads and writes go through services)', () => {
    const resolvers = files.filter((f) => f.endsWith('.resolver.ts'));
    expect(resolvers.length).toBeGreaterThan(10);
    expect(edges.filter((e) => e.from.endsWith('.resolver.ts') && e.to.startsWith('db/') && !e.typeOnly).map(name)).toEqual([]);
  });

  it('finds a cycle and an upward import when there is one', () => {
    const up: ImportEdge = { from: 'graphql/schema.ts', to: 'tasks/task.resolver.ts', typeOnly: true };
    const back: ImportEdge = { from: 'errors.ts', to: 'graphql/errors.ts', typeOnly: true }; // graphql/errors.ts imports errors.ts
    expect(cycles([...edges, back]).map((c) => c.join(' <-> '))).toContain('errors.ts <-> graphql/errors.ts');
    expect([...edges, up].filter(upward).map(name)).toContain('graphql/schema.ts -> tasks/task.resolver.ts (import type)');
  });
});
