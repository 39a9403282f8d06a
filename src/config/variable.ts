/**
 * The shape of one environment variable's definition (src/config/variables.ts holds them all). The
 * parsed config, docs/configuration.md and .env.example are all made from those definitions, so a
 * variable's name, default, bounds and meaning are written once.
 */

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** What a default may depend on: known before any section is parsed. */
export interface Situation {
  isProduction: boolean;
  /** Neither DATABASE_URL nor DB_HOST is set: the gateway starts its own PostgreSQL. */
  embedded: boolean;
  /** Whether a variable is set (not empty). */
  isSet(name: string): boolean;
}

/**
 * A default that depends on the situation. `doc` is what the documentation shows; without `value`
 * the section that reads the variable derives it (from other settings), as `doc` says.
 */
export interface Derived<T> {
  doc: string;
  value?: (situation: Situation) => T;
}

export type Section =
  | 'Server'
  | 'Database'
  | 'Database roles (npm run db:init)'
  | 'Shutdown'
  | 'GraphQL'
  | 'Writes'
  | 'Authentication'
  | 'Limits'
  | 'Secrets'
  | 'runSql console'
  | 'Health'
  | 'Retention'
  | 'Subscriptions'
  | 'Webhooks'
  | 'Cloudflare tunnel';

interface Common {
  section: Section;
  description: string;
  /** Holds a password or key: never logged, never shown by the gateway. */
  secret?: boolean;
  /** A value to show in .env.example when the default is not a good example. */
  example?: string;
}

export interface IntegerVariable extends Common {
  kind: 'integer';
  min: number;
  max: number;
  default: number | Required<Derived<number>>;
}

export interface BooleanVariable extends Common {
  kind: 'boolean';
  default: boolean | Required<Derived<boolean>>;
}

export interface EnumVariable extends Common {
  kind: 'enum';
  values: readonly string[];
  default: string | Required<Derived<string>>;
}

export interface TextVariable extends Common {
  kind: 'text';
  /** What the value looks like (a URL, a Go duration, ...), for the documentation. */
  format: string;
  default?: string | Derived<string | undefined>;
}

export type Variable = IntegerVariable | BooleanVariable | EnumVariable | TextVariable;
