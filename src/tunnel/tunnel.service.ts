/**
 * The tunnel at start-up and afterwards: checks everything before the gateway starts anything
 * (`precheck`), writes the file once the real port is known (`write`), and reports its state
 * (`status`, for the `tunnel` query). Never holds or returns the secret.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, type Config, type EnabledTunnelConfig, type TunnelConfig } from '../config';
import type { Logger } from '../logger';
import { checkCredentialsFile } from './credentials';
import { generateTunnelYaml, sourceOf, tunnelDocument } from './generate';
import { planTunnel, type TunnelPlan } from './plan';
import type { TunnelIssue } from './issues';
import { formatIssues, validateTunnelYaml } from './validate';
import { assertReplaceable, writeFileAtomic } from './write';
import { plainValue } from './yaml';

/** An invalid generated config: names the first variable to fix and lists every issue. */
export class TunnelConfigError extends ConfigError {
  constructor(readonly issues: TunnelIssue[]) {
    super(
      issues[0]?.variable ?? 'CLOUDFLARE_ENABLED',
      `the generated Cloudflare tunnel config would not work, nothing was written:\n${formatIssues(issues).replace(/^/gm, '  ')}`,
    );
    this.name = 'TunnelConfigError';
  }
}

export interface BuiltTunnelConfig {
  plan: TunnelPlan;
  text: string;
  issues: TunnelIssue[];
}

type TunnelBase = Pick<Config, 'host' | 'db'>;

/** Generates the file for a gateway on `port` and validates what a reader of the text would get. */
export function buildTunnelConfig(
  base: TunnelBase,
  tunnel: EnabledTunnelConfig,
  port: number,
  fileExists: (path: string) => boolean = existsSync,
): BuiltTunnelConfig {
  const plan = planTunnel(base, tunnel, port);
  const text = generateTunnelYaml(plan);
  const issues = validateTunnelYaml(text, { sourceOf: sourceOf(plan), fileExists, expected: plainValue(tunnelDocument(plan)) });
  return { plan, text, issues };
}

/** The same, throwing TunnelConfigError when the result is invalid. */
export function buildValidTunnelConfig(base: TunnelBase, tunnel: EnabledTunnelConfig, port: number): BuiltTunnelConfig {
  const built = buildTunnelConfig(base, tunnel, port);
  if (built.issues.length > 0) throw new TunnelConfigError(built.issues);
  return built;
}

export interface TunnelRoute {
  hostname?: string;
  path?: string;
  service: string;
}

export interface TunnelStatus {
  enabled: boolean;
  tunnelId?: string;
  configPath?: string;
  /** Checked at start-up: exists, readable, its TunnelID matches, its secret well-formed. */
  credentialsFound: boolean;
  /** The file on disk is the one the gateway wrote, and it is valid. */
  configValid: boolean;
  writtenAt?: Date;
  hostnames: string[];
  routes: TunnelRoute[];
  metrics?: string;
  /** Why the config is not valid now (empty when it is). */
  problems: string[];
}

/** A port that stands in for PORT=0 during the pre-check (the real one is known after bind). */
const TRIAL_PORT = 4000;

export class TunnelService {
  private credentialsFound = false;
  private written?: { plan: TunnelPlan; digest: string; at: Date };

  constructor(
    private readonly tunnel: TunnelConfig,
    /** The gateway's HOST, PORT and database: where the origins are (needed only when enabled). */
    private readonly base: (TunnelBase & Pick<Config, 'port'>) | undefined,
    private readonly logger?: Logger,
  ) {}

  /** For code paths (and tests) that build services without a gateway config. */
  static disabled(): TunnelService {
    return new TunnelService({ enabled: false, configFile: '' }, undefined);
  }

  get enabled(): boolean {
    return this.tunnel.enabled;
  }

  /**
   * Everything that can be known before the database and the HTTP server start: the credentials
   * file, and a trial generation + validation (with a stand-in port when PORT=0). Throws a
   * ConfigError naming the variable; writes nothing.
   */
  precheck(): void {
    if (!this.tunnel.enabled) return;
    const { warnings } = checkCredentialsFile(this.tunnel.credentialsFile, this.tunnel.tunnelId);
    this.credentialsFound = true;
    for (const warning of warnings) this.logger?.warn(warning);
    assertReplaceable(this.tunnel.configFile);
    buildValidTunnelConfig(this.origins(), this.tunnel, this.origins().port || TRIAL_PORT);
  }

  /** Generates for the real port, validates again, writes atomically. Nothing is written when invalid. */
  write(port: number): void {
    if (!this.tunnel.enabled) return;
    const built = buildValidTunnelConfig(this.origins(), this.tunnel, port);
    assertReplaceable(this.tunnel.configFile);
    writeFileAtomic(this.tunnel.configFile, built.text);
    this.written = { plan: built.plan, digest: digest(built.text), at: new Date() };
    const hostnames = routesOf(built.plan).flatMap((r) => (r.hostname ? [`${r.hostname} -> ${r.service}`] : []));
    this.logger?.info(
      `cloudflare tunnel config written to ${this.tunnel.configFile} (tunnel ${this.tunnel.tunnelId}: ${hostnames.join(', ')})`,
    );
  }

  status(): TunnelStatus {
    if (!this.tunnel.enabled)
      return { enabled: false, credentialsFound: false, configValid: false, hostnames: [], routes: [], problems: [] };
    const routes = this.written ? routesOf(this.written.plan) : [];
    const problems = this.problems();
    return {
      enabled: true,
      tunnelId: this.tunnel.tunnelId,
      configPath: this.tunnel.configFile,
      credentialsFound: this.credentialsFound && existsSync(this.tunnel.credentialsFile),
      configValid: problems.length === 0,
      writtenAt: this.written?.at,
      hostnames: [...new Set(routes.flatMap((r) => (r.hostname ? [r.hostname] : [])))],
      routes,
      metrics: this.tunnel.metrics,
      problems,
    };
  }

  private origins(): TunnelBase & Pick<Config, 'port'> {
    if (!this.base) throw new TypeError("TunnelService: an enabled tunnel needs the gateway's HOST, PORT and database config");
    return this.base;
  }

  private problems(): string[] {
    if (!this.tunnel.enabled) return [];
    if (!this.written) return ['the tunnel config has not been written yet'];
    let text: string;
    try {
      text = readFileSync(this.tunnel.configFile, 'utf8');
    } catch (error) {
      return [`${this.tunnel.configFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`];
    }
    const problems: string[] = [];
    if (digest(text) !== this.written.digest) problems.push(`${this.tunnel.configFile} was changed after the gateway wrote it`);
    const issues = validateTunnelYaml(text, { fileExists: existsSync });
    if (issues.length > 0) problems.push(formatIssues(issues));
    if (!existsSync(this.tunnel.credentialsFile)) problems.push(`the credentials file ${this.tunnel.credentialsFile} is gone`);
    return problems;
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The ingress rules as written, without their origin settings. */
export function routesOf(plan: TunnelPlan): TunnelRoute[] {
  const ingress = tunnelDocument(plan).ingress as Record<string, unknown>[];
  return ingress.map((rule) => ({
    ...(typeof rule.hostname === 'string' ? { hostname: rule.hostname } : {}),
    ...(typeof rule.path === 'string' ? { path: rule.path } : {}),
    service: String(rule.service),
  }));
}
