import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { printSortedSchema } from '../src/graphql/schema';
import { createGatewaySchema } from '../src/services';

describe('schema.graphql', () => {
  it('is the schema the code builds (run `npm run schema:print` after changing the API)', async () => {
    const committed = readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8');
    expect(committed).toBe(printSortedSchema(await createGatewaySchema()));
  });

  it('exposes no integration configuration (credentials are write-only)', () => {
    const sdl = readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8');
    const integrationType = sdl.match(/type ExternalIntegration (?:implements Node )?\{[^}]*\}/)?.[0];
    expect(integrationType).toBeDefined();
    const fields = [...integrationType!.matchAll(/^\s+(\w+)(?:\(|:)/gm)].map((m) => m[1]);
    expect(fields.length).toBeGreaterThan(5);
    // Only the presence of credentials and a masked hint are readable, never their values.
    expect(fields.filter((f) => /configuration|credential|secret|token/i.test(f))).toEqual(['credentialsHint', 'hasCredentials']);
  });
});
