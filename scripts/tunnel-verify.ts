/**
 * `npm run tunnel:verify`: runs a real cloudflared's `tunnel --config FILE ingress validate` on
 * every config of the table in src/tunnel/cases.ts that the generator accepts, and expects `OK` on
 * a line of its own (cloudflared exits 0 after mere warnings too, so the exit code is not enough).
 *
 *   CLOUDFLARED=/path/to/cloudflared npm run tunnel:verify
 *
 * Exit codes: 0 every accepted config validated OK; 1 cloudflared refused one; 2 no binary given.
 * The table's refused cases are listed as skipped (the generator never writes them).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { CASE_BASE_ENV, TUNNEL_CASES } from '../src/tunnel/cases';
import type { EnabledTunnelConfig } from '../src/tunnel/tunnel.config';
import { buildTunnelConfig } from '../src/tunnel/tunnel.service';

function main(): number {
  const binary = process.env.CLOUDFLARED;
  if (!binary || !existsSync(binary)) {
    console.error(`tunnel:verify needs a cloudflared binary: CLOUDFLARED=/path/to/cloudflared npm run tunnel:verify${binary ? ` (${binary} does not exist)` : ''}`);
    return 2;
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`cloudflared: ${version}`);
  const dir = mkdtempSync(join(tmpdir(), 'tunnel-verify-'));
  let failed = 0;
  let checked = 0;
  try {
    TUNNEL_CASES.forEach((c, i) => {
      const config = loadConfig({ ...CASE_BASE_ENV, ...c.env });
      const { text, issues } = buildTunnelConfig(config, config.tunnel as EnabledTunnelConfig, 4000, () => true);
      if (issues.length > 0) {
        console.log(`skip  ${c.name}: the generator refuses it [${issues[0].rule}]${c.expect === 'valid' ? '  <-- expected valid!' : ''}`);
        if (c.expect === 'valid') failed++;
        return;
      }
      const file = join(dir, `case-${i}.yml`);
      writeFileSync(file, text);
      let output: string;
      try {
        output = execFileSync(binary, ['tunnel', '--config', file, 'ingress', 'validate'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string; status?: number };
        output = `${e.stdout ?? ''}${e.stderr ?? ''} (exit ${e.status})`;
      }
      checked++;
      if (/^OK$/m.test(output)) {
        console.log(`OK    ${c.name}`);
      } else {
        failed++;
        console.log(`FAIL  ${c.name}\n${output.replace(/^/gm, '      ')}`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${checked} configs validated by cloudflared, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
