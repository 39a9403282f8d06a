/** Writes schema.graphql from the code (`npm run schema:print`). Never edit that file by hand. */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printSortedSchema } from '../src/graphql/schema';
import { createGatewaySchema } from '../src/services';

createGatewaySchema().then(
  (schema) => {
    writeFileSync(join(__dirname, '..', 'schema.graphql'), printSortedSchema(schema));
    console.log('schema.graphql written');
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
