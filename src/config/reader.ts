import { ConfigError, type Derived, type Env, type Situation } from './variable';
import { VARIABLES, type VariableName } from './variables';

type Vars = typeof VARIABLES;
type NamesOf<Kind> = { [N in VariableName]: Vars[N]['kind'] extends Kind ? N : never }[VariableName];
type ValuesOf<N extends NamesOf<'enum'>> = Vars[N] extends { values: readonly (infer V)[] } ? V : never;

/** Reads variables by their definition: default, bounds and allowed values come from VARIABLES. */
export interface Reader {
  situation: Situation;
  /** The trimmed value, or undefined when unset or empty (no default applied). */
  raw(name: VariableName): string | undefined;
  /** The trimmed value, else the definition's default (which may be undefined). */
  text(name: NamesOf<'text'>): string | undefined;
  int(name: NamesOf<'integer'>): number;
  bool(name: NamesOf<'boolean'>): boolean;
  oneOf<N extends NamesOf<'enum'>>(name: N): ValuesOf<N>;
}

function trimmed(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function isDerived<T>(value: unknown): value is Derived<T> {
  return typeof value === 'object' && value !== null && 'doc' in value;
}

/** Every reader error has one shape: it names the variable and says what was expected. */
export function reader(env: Env): Reader {
  const base: Pick<Reader, 'raw'> = {
    raw(name) {
      if (!(name in VARIABLES)) throw new Error(`${name} is not defined in src/config/variables.ts`);
      return trimmed(env, name);
    },
  };
  const nodeEnv = oneOfRaw<string>(base, 'NODE_ENV', VARIABLES.NODE_ENV.values, VARIABLES.NODE_ENV.default);
  const situation: Situation = {
    isProduction: nodeEnv === 'production',
    embedded: base.raw('DATABASE_URL') === undefined && base.raw('DB_HOST') === undefined,
    isSet: (name) => base.raw(name as VariableName) !== undefined,
  };
  const fallback = <T>(name: VariableName): T => {
    const def: unknown = (VARIABLES[name] as { default?: unknown }).default;
    return (isDerived<T>(def) ? def.value?.(situation) : def) as T;
  };
  return {
    situation,
    raw: base.raw,
    text: (name) => base.raw(name) ?? fallback<string | undefined>(name),
    int(name) {
      const raw = base.raw(name);
      if (raw === undefined) return fallback<number>(name);
      if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
      const value = Number(raw);
      const { min, max } = VARIABLES[name];
      if (value < min || value > max) throw new ConfigError(name, `expected a number from ${min} to ${max}, got ${value}`);
      return value;
    },
    bool(name) {
      const raw = base.raw(name)?.toLowerCase();
      if (raw === undefined) return fallback<boolean>(name);
      if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
      if (['0', 'false', 'no', 'off'].includes(raw)) return false;
      throw new ConfigError(name, `expected true or false, got "${raw}"`);
    },
    oneOf: (name) => oneOfRaw(base, name, VARIABLES[name].values, fallback(name)),
  };
}

function oneOfRaw<T>(base: Pick<Reader, 'raw'>, name: VariableName, allowed: readonly string[], fallback: T): T {
  const raw = base.raw(name);
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw)) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}
