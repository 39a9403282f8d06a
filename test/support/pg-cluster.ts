import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A TCP port nobody listens on right now (for a test's own PostgreSQL or gateway). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  /** Stops PostgreSQL (data kept: start it again on the same folder and port). */
  stop(): Promise<void>;
}

/**
 * An embedded PostgreSQL of the test's own in a child process (embedded-pg-process.ts), for tests
 * that stop and restart their database; resolves once it accepts connections.
 */
export function startPgCluster(dataDir: string, port: number, database: string): Promise<PgCluster> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(__dirname, 'embedded-pg-process.ts'), dataDir, String(port), database],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      if (String(chunk).includes('ready')) resolve({ stop: () => (child.kill('SIGTERM'), exited) });
    });
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited (${code}): ${stderr}`)));
  });
}
