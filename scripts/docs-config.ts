/**
 * Writes docs/configuration.md from the config module's own definitions (src/config/variables.ts),
 * so the reference cannot drift from what the gateway reads. test/docs.test.ts fails when the
 * committed file differs from what this prints.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationDoc } from '../src/config/docs';

const path = join(__dirname, '..', 'docs', 'configuration.md');
writeFileSync(path, configurationDoc());
console.log(`wrote ${path}`);
