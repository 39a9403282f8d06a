// PostGraphile 5, the peer of the benchmark: the Amber preset (PostGraphile's defaults, default
// inflection, no filter plugin) over the bench database's public schema plus bench_peer, which
// holds the metric_series function of peer.sql. Started by `npm run bench:peer` in the repository
// root; reads DATABASE_URL (default: the bench database on the local PostgreSQL) and PORT (5678).
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { makePgService } from 'postgraphile/adaptors/pg';

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_tm',
      schemas: ['public', 'bench_peer'],
      poolConfig: { max: Number(process.env.PEER_POOL_MAX ?? 10) },
    }),
  ],
  grafserv: {
    host: process.env.HOST ?? '127.0.0.1',
    port: Number(process.env.PORT ?? 5678),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
