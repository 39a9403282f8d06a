// The raw ceiling (issue 26): a server that only runs each shape's statement. node:http + pg, one
// named (prepared) statement per shape that builds the whole answer as JSON in PostgreSQL, no
// authentication, no validation, no GraphQL. The harness measures it as a peer:
//   DATABASE_URL=postgres://... PORT=5679 node bench/ceiling.cjs &
//   npm run bench -- --url http://127.0.0.1:4000/graphql --token "$TOKEN" \
//     --peer-url http://127.0.0.1:5679/graphql --peer-queries bench/queries/ceiling.json --peer-pid $!
// A request is `{ "query": "<shape>", "variables": {...} }` (bench/queries/ceiling.json): the
// shape's name picks the statement, the variables are its parameters. Its answers have the same
// data as the gateway's (same fields, same rows), so `check` paths and response sizes match.
const http = require('node:http');
const { Buffer } = require('node:buffer');
const { Pool } = require('pg');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.CEILING_POOL_MAX ?? 10) });
const EXECUTIONS = `(SELECT coalesce(json_agg(json_build_object('id', e.id, 'status', upper(e.status), 'agentType', e.agent_type, 'createdAt', e.created_at)), '[]')
     FROM (SELECT * FROM task_executions e WHERE e.task_id = t.id ORDER BY e.created_at DESC, e.id DESC LIMIT 10) e)`;
const SHAPES = {
  list: {
    text: `SELECT json_build_object('tasks', json_build_object('nodes', coalesce(json_agg(json_build_object(
             'id', t.id, 'title', t.title, 'status', upper(t.status), 'priority', t.priority, 'createdAt', t.created_at)), '[]')))::text AS body
           FROM (SELECT * FROM tasks WHERE status = 'pending' ORDER BY priority DESC NULLS LAST, id DESC LIMIT 50) t`,
    values: () => [],
  },
  nested: {
    text: `SELECT json_build_object('tasks', json_build_object('nodes', coalesce(json_agg(json_build_object(
             'id', t.id, 'title', t.title, 'executions', json_build_object('nodes', ${EXECUTIONS}))), '[]')))::text AS body
           FROM (SELECT * FROM tasks ORDER BY created_at DESC, id DESC LIMIT 50) t`,
    values: () => [],
  },
  byId: {
    text: `SELECT json_build_object('task', (SELECT json_build_object('id', t.id, 'title', t.title,
             'parent', (SELECT json_build_object('title', p.title) FROM tasks p WHERE p.id = t.parent_task_id),
             'executions', json_build_object('nodes', ${EXECUTIONS}))
           FROM tasks t WHERE t.id = $1))::text AS body`,
    values: (v) => [v.id],
  },
  series: {
    text: `SELECT json_build_object('metricSeries', coalesce(json_agg(b ORDER BY b.start), '[]'))::text AS body FROM (
             SELECT date_bin('5 minutes', m.timestamp, $2::timestamptz) AS start, count(*)::int AS count,
                    avg(m.metric_value)::float8 AS avg, min(m.metric_value)::float8 AS min, max(m.metric_value)::float8 AS max,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY m.metric_value) AS p50,
                    percentile_cont(0.95) WITHIN GROUP (ORDER BY m.metric_value) AS p95
               FROM system_metrics m WHERE m.metric_name = $1 AND m.timestamp >= $2::timestamptz AND m.timestamp < $3::timestamptz
              GROUP BY 1) b`,
    values: (v) => [v.name, v.from, v.to],
  },
  create: {
    text: `WITH t AS (INSERT INTO tasks (title, priority, requirements) VALUES ($1, $2, $3) RETURNING id)
           SELECT json_build_object('createTask', json_build_object('id', t.id))::text AS body FROM t`,
    values: (v) => [v.input.title, v.input.priority, JSON.stringify(v.input.requirements ?? {})],
  },
};

http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const shape = SHAPES[query];
        if (!shape) throw new Error(`no shape ${query}`);
        const { rows } = await pool.query({ name: query, text: shape.text, values: shape.values(variables ?? {}) });
        const body = `{"data":${rows[0].body}}`;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } catch (error) {
        const body = JSON.stringify({ errors: [{ message: String(error.message) }] });
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(body);
      }
    });
  })
  .listen(Number(process.env.PORT ?? 5679), '127.0.0.1');
