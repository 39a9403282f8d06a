import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Logs one line at each level in a child process and returns what reached stdout and stderr. */
function streams(stderr: boolean): { stdout: string; stderr: string } {
  const code = `const { createLogger } = require('./src/logger');
    const log = createLogger({ logLevel: 'debug', isProduction: true }, { stderr: ${stderr} });
    for (const level of ['error', 'warn', 'info', 'debug']) log.log(level, 'line at ' + level);`;
  const child = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', code], { cwd: join(__dirname, '..'), encoding: 'utf8' });
  expect(child.status).toBe(0);
  return { stdout: child.stdout, stderr: child.stderr };
}

describe('createLogger', () => {
  it('writes to stdout by default, and everything to stderr for tools whose stdout is data (token:create)', () => {
    expect(streams(false).stdout).toMatch(/line at error[\s\S]*line at warn[\s\S]*line at info[\s\S]*line at debug/);
    const cli = streams(true);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toMatch(/line at error[\s\S]*line at warn[\s\S]*line at info[\s\S]*line at debug/);
  });
});
