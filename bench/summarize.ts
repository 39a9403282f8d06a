/**
 * `npm run bench:summary -- bench/results/a.json bench/results/b.json ...`: the medians of several
 * runs of `npm run bench`, per shape and endpoint, as a Markdown table for bench/RESULTS.md.
 */
import { readFileSync } from 'node:fs';
import { errorCount, SHAPES, type BenchResult, type TargetResult } from './harness';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function cpu(runs: TargetResult[], key: 'nodeMsPerRequest' | 'pgMsPerRequest'): string {
  const values = runs.map((t) => t.cpu?.[key]).filter((x): x is number => x != null);
  return values.length > 0 ? median(values).toFixed(2) : '–';
}

export function summarize(results: BenchResult[]): string {
  const lines = [
    `Medians of ${results.length} run${results.length === 1 ? '' : 's'} (${results[0].settings.warmupSec} s warm-up, ${results[0].settings.durationSec} s, ${results[0].settings.connections} connections); req/s of each run in brackets.`,
    '',
    '| shape | target | req/s | p50 ms | p95 ms | p99 ms | errors | SQL statements / request | transactions / request | Node CPU ms / request | PostgreSQL CPU ms / request |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const ratios: string[] = [];
  for (const shape of SHAPES) {
    const per = { ours: [] as TargetResult[], peer: [] as TargetResult[] };
    for (const result of results) {
      const r = result.shapes[shape];
      if (r?.ours) per.ours.push(r.ours);
      if (r?.peer) per.peer.push(r.peer);
    }
    for (const label of ['ours', 'peer'] as const) {
      const runs = per[label];
      if (runs.length === 0) continue;
      const errors = runs.reduce((n, t) => n + errorCount(t), 0);
      const sql = runs.map((t) => t.sql.perRequest).filter((x): x is number => x !== null);
      const xact = runs.map((t) => t.sql.transactionsPerRequest).filter((x): x is number => x !== null);
      const source =
        runs[0].sql.source === 'x-sql-statements'
          ? ' (header)'
          : runs[0].sql.source === 'pg_stat_statements'
            ? ' (pg_stat_statements)'
            : '';
      lines.push(
        `| ${shape} | ${label} | ${median(runs.map((t) => t.rps)).toFixed(0)} [${runs.map((t) => t.rps.toFixed(0)).join(', ')}] | ` +
          `${median(runs.map((t) => t.latencyMs.p50)).toFixed(1)} | ${median(runs.map((t) => t.latencyMs.p95)).toFixed(1)} | ${median(runs.map((t) => t.latencyMs.p99)).toFixed(1)} | ` +
          `${errors} | ${sql.length > 0 ? `${median(sql)}${source}` : '–'} | ${xact.length > 0 ? median(xact).toFixed(1) : '–'} | ` +
          `${cpu(runs, 'nodeMsPerRequest')} | ${cpu(runs, 'pgMsPerRequest')} |`,
      );
    }
    const clean = [...per.ours, ...per.peer].every((t) => errorCount(t) === 0);
    if (per.ours.length > 0 && per.peer.length > 0 && !clean) ratios.push(`| ${shape} | not compared: errors | |`);
    if (per.ours.length > 0 && per.peer.length > 0 && clean) {
      const rps = median(per.ours.map((t) => t.rps)) / median(per.peer.map((t) => t.rps));
      const p95 = median(per.ours.map((t) => t.latencyMs.p95)) / median(per.peer.map((t) => t.latencyMs.p95));
      ratios.push(`| ${shape} | ${rps.toFixed(2)} | ${p95.toFixed(2)} |`);
    }
  }
  if (ratios.length > 0) lines.push('', '| shape | ours / peer req/s | ours / peer p95 |', '| --- | ---: | ---: |', ...ratios);
  return lines.join('\n');
}

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npm run bench:summary -- RESULT.json [RESULT.json ...]');
    process.exit(2);
  }
  console.log(summarize(files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchResult)));
}
