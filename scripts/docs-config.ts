/**
 * Writes docs/configuration.md and .env.example from the config module's own definitions
 * (src/config/variables.ts), so neither can drift from what the gateway reads. test/docs.test.ts
 * fails when a committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationDoc, envExample } from '../src/config/docs';

const root = join(__dirname, '..');
for (const [file, text] of [
  ['docs/configuration.md', configurationDoc()],
  ['.env.example', envExample()],
] as const) {
  writeFileSync(join(root, file), text);
  console.log(`wrote ${file}`);
}
