/**
 * The DataSource the TypeORM CLI uses (`npm run db:migrate`, or
 * `npx typeorm migration:run -d dist/ormconfig.js` after `npm run build`). It reads the same
 * variables as the gateway; with none set it points at the embedded PostgreSQL of `npm start`.
 */
import 'reflect-metadata';
import { loadConfig } from './src/config';
import { createDataSource } from './src/db/data-source';
import { catalogue } from './src/catalogue';

export default createDataSource(loadConfig().db, catalogue);
