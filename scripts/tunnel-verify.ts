/**
 * `npm run tunnel:verify`: runs a real cloudflared's `tunnel --config FILE ingress validate` on
 * every config of the table in src/tunnel/cases.ts that the generator accepts, and expects `OK` on
 * a line of its own (cloudflared exits 0 after mere warnings too, so the exit code is not enough).
 *
 *   CLOUDFLARED=/path/to/cloudflared npm run tunnel:verify
 *   npm run tunnel:verify -- --list      # only the generator's answer for each case, no cloudflared
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
import type { EnabledTunnelConfig } from '../src/config';
import { buildTunnelConfig } from '../src/tunnel/tunnel.service';

/** Control characters in a case's name, written as \uXXXX for the terminal. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff]/g;
const printable = (text: string) => text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function answer(c: (typeof TUNNEL_CASES)[number]) {
  const config = loadConfig({ ...CASE_BASE_ENV, ...c.env });
  return buildTunnelConfig(config, config.tunnel as EnabledTunnelConfig, 4000, () => true);
}

function main(): number {
  if (process.argv.includes('--list')) {
    for (const c of TUNNEL_CASES) {
      const { issues } = answer(c);
      console.log(
        `${issues.length === 0 ? 'valid' : `refused [${[...new Set(issues.map((i) => i.rule))].join(', ')}]`}  ${printable(c.name)}`,
      );
    }
    return 0;
  }
  const binary = process.env.CLOUDFLARED;
  if (!binary || !existsSync(binary)) {
    console.error(
      `tunnel:verify needs a cloudflared binary: CLOUDFLARED=/path/to/cloudflared npm run tunnel:verify${binary ? ` (${binary} does not exist)` : ''}`,
    );
    return 2;
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`cloudflared: ${version}`);
  const dir = mkdtempSync(join(tmpdir(), 'tunnel-verify-'));
  let failed = 0;
  let checked = 0;
  try {
    TUNNEL_CASES.forEach((c, i) => {
      const { text, issues } = answer(c);
      if (issues.length > 0) {
        console.log(
          `skip  ${printable(c.name)}: the generator refuses it [${issues[0].rule}]${c.expect === 'valid' ? '  <-- expected valid!' : ''}`,
        );
        if (c.expect === 'valid') failed++;
        return;
      }
      const file = join(dir, `case-${i}.yml`);
      writeFileSync(file, text);
      let output: string;
      try {
        output = execFileSync(binary, ['tunnel', '--config', file, 'ingress', 'validate'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string; status?: number };
        output = `${e.stdout ?? ''}${e.stderr ?? ''} (exit ${e.status})`;
      }
      checked++;
      if (/^OK$/m.test(output)) {
        console.log(`OK    ${printable(c.name)}`);
      } else {
        failed++;
        console.log(`FAIL  ${printable(c.name)}\n${output.replace(/^/gm, '      ')}`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${checked} configs validated by cloudflared, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
