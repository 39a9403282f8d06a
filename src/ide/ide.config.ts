import { bool, type Env } from '../config';

export interface IdeConfig {
  /** Serve GraphiQL at GET /graphql (for browsers), /graphiql and /playground. */
  enabled: boolean;
}

/** GRAPHQL_IDE: on in development and test, off in production unless set to true. */
export function ideConfig(env: Env, isProduction: boolean): IdeConfig {
  return { enabled: bool(env, 'GRAPHQL_IDE', !isProduction) };
}
