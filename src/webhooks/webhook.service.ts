import type { DataSource } from 'typeorm';
import {
  auditedDelete,
  auditedStatement,
  changedRow,
  insertedRows,
  outcomeOf,
  writtenTable,
  type WrittenTable,
} from '../audit/audited-statement';
import type { WebhooksConfig } from '../config';
import { entityColumns } from '../db/rows';
import { Params } from '../db/sql';
import { poolQuery, runWrite } from '../db/writes';
import { BadInputError, NotFoundError } from '../errors';
import type { Connection, Ordering } from '../db/reads/keyset';
import { TableReads, type PageRequest } from '../graphql/reads';
import type { RequestScope } from '../request';
import type { SecretBox } from '../secrets/secret-box';
import { taskFilterSql, type TaskFilter } from '../tasks/task.query';
import { newestFirst } from '../db/reads/keyset';
import { DeliveryStatus, Webhook, WebhookDelivery, WebhookDisabledReason, WebhookStatus } from './webhook.entity';
import { EVENT_TYPES } from './webhook.events';
import { newSigningSecret, parseWebhookUrl, RefusedUrl, resolveTarget, type UrlRules } from './webhook.http';
import type { CreateWebhookInput, RotateWebhookSecretInput, UpdateWebhookInput, WebhookWithSecret } from './webhook.inputs';

/** Columns never read for an answer: the sealed secrets and the sender's lease. */
const HIDDEN = ['secret', 'previousSecret', 'leaseOwner', 'leaseUntil'];
const WEBHOOK_ORDERING = newestFirst('webhook', 'w', 'created_at', false);
const DELIVERY_ORDERING: Ordering = {
  signature: 'webhookDelivery:SEQ.DESC',
  keys: [
    { sql: 'd.seq', type: 'bigint', nullable: false, direction: 'DESC' },
    { sql: 'd.id', type: 'uuid', nullable: false, direction: 'DESC' },
  ],
};
const DEFAULT_OVERLAP_SECONDS = 86_400;

export interface DeliveryPageQuery extends PageRequest {
  webhookId: string;
  status?: DeliveryStatus[] | null;
}

/** Webhook endpoints (admin): create, change, rotate, delete, and the delivery log. Sending: webhook.dispatcher.ts and webhook.delivery.ts. */
export class WebhookService {
  private written?: WrittenTable;
  private writtenDeliveries?: WrittenTable;
  private readonly reads: TableReads<Webhook>;
  private readonly deliveryReads: TableReads<WebhookDelivery>;
  private readonly rules: UrlRules;

  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
    config: WebhooksConfig,
    defaultPageSize: number,
  ) {
    this.reads = new TableReads(db, { from: 'webhooks w', alias: 'w', entity: Webhook, hidden: HIDDEN }, defaultPageSize);
    this.deliveryReads = new TableReads(
      db,
      { from: 'webhook_deliveries d', alias: 'd', entity: WebhookDelivery, hidden: ['body'] },
      defaultPageSize,
    );
    this.rules = { allowPrivate: config.allowPrivateUrls, allowHttp: config.allowHttp };
  }

  private get table(): WrittenTable {
    return (this.written ??= writtenTable(this.db, Webhook, 'webhook', { hidden: HIDDEN, secret: ['secret', 'previousSecret'] }));
  }

  private get deliveryTable(): WrittenTable {
    return (this.writtenDeliveries ??= writtenTable(this.db, WebhookDelivery, 'webhook_delivery', { hidden: ['body'] }));
  }

  findByIds(ids: readonly string[], fields?: Iterable<string>): Promise<Webhook[]> {
    return this.reads.byIds(ids, fields);
  }

  page(r: PageRequest): Promise<Connection<Webhook>> {
    return this.reads.page(r, { where: [], params: new Params(), ordering: WEBHOOK_ORDERING });
  }

  /** The delivery log of one webhook, newest event first. */
  deliveries(q: DeliveryPageQuery): Promise<Connection<WebhookDelivery>> {
    const p = new Params();
    const where = [`d.webhook_id = ${p.add(q.webhookId)}::uuid`];
    if (q.status != null) where.push(`d.status = ANY(${p.add(q.status)}::text[])`);
    return this.deliveryReads.page(q, { where, params: p, ordering: DELIVERY_ORDERING });
  }

  /** One audited INSERT; the secret is generated, sealed, and answered only here. */
  async create(scope: RequestScope, input: CreateWebhookInput): Promise<WebhookWithSecret> {
    const values = {
      url: await this.checkedUrl(input.url),
      events: checkedEvents(input.events),
      filter: checkedFilter(input.filter),
      description: input.description ?? null,
    };
    const secret = newSigningSecret();
    const p = new Params();
    const columns = entityColumns(this.db, Webhook);
    const names: string[] = [];
    const refs: string[] = [];
    for (const [prop, value] of Object.entries({ ...values, secret: this.secrets.seal({ key: secret }) })) {
      const a = value === null ? undefined : columns.assign(prop, value, p);
      if (!a) continue;
      names.push(a.column);
      refs.push(prop === 'events' ? `${a.value}::text[]` : a.value);
    }
    const statement = auditedStatement(scope, this.table, {
      kind: 'insert',
      operation: 'createWebhook',
      insert: `INSERT INTO webhooks AS w (${names.join(', ')}) VALUES (${refs.join(', ')})`,
      params: p,
    });
    const [webhook] = insertedRows<Webhook>(await runWrite(poolQuery(this.db), statement));
    return { webhook, secret };
  }

  async update(scope: RequestScope, input: UpdateWebhookInput): Promise<Webhook> {
    const values: Record<string, unknown> = {};
    if (input.url !== undefined) values.url = await this.checkedUrl(input.url);
    if (input.events !== undefined) values.events = checkedEvents(input.events);
    if (input.filter !== undefined) values.filter = checkedFilter(input.filter);
    if (input.description !== undefined) values.description = input.description;
    if (input.enabled != null) Object.assign(values, input.enabled ? active() : disabled(WebhookDisabledReason.MANUAL));
    return this.change(scope, 'updateWebhook', input.id, values, input.expectedVersion);
  }

  /** DISABLED (manual); already disabled, nothing changes. */
  disable(scope: RequestScope, id: string): Promise<Webhook> {
    return this.change(scope, 'disableWebhook', id, disabled(WebhookDisabledReason.MANUAL), undefined, [`o.status <> 'disabled'`]);
  }

  /** A new secret; the current one becomes the previous one, still signing for the overlap. */
  async rotateSecret(scope: RequestScope, input: RotateWebhookSecretInput): Promise<WebhookWithSecret> {
    const secret = newSigningSecret();
    const p = new Params();
    const overlap = input.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
    const statement = auditedStatement(scope, this.table, {
      kind: 'update',
      operation: 'rotateWebhookSecret',
      id: `${p.add(input.id)}::uuid`,
      set: [
        `secret = ${p.json(this.secrets.seal({ key: secret }))}`,
        `previous_secret = o.secret`,
        `previous_secret_expires_at = now() + make_interval(secs => ${p.add(overlap)}::int)`,
      ],
      params: p,
    });
    const result = changedRow(outcomeOf<Webhook>(await runWrite(poolQuery(this.db), statement)), 'webhook', input.id, undefined);
    return { webhook: 'row' in result ? result.row : result.current, secret };
  }

  async delete(scope: RequestScope, id: string): Promise<Webhook> {
    return auditedDelete<Webhook>(this.db, scope, this.table, 'deleteWebhook', 'webhook', id);
  }

  /**
   * Queues a delivery again with a fresh retry schedule, under its webhook-id; as the oldest open
   * event of its endpoint it goes before the later ones still queued.
   */
  async redeliver(scope: RequestScope, deliveryId: string): Promise<WebhookDelivery> {
    const p = new Params();
    const statement = auditedStatement(scope, this.deliveryTable, {
      kind: 'update',
      operation: 'redeliverWebhookEvent',
      id: `${p.add(deliveryId)}::uuid`,
      set: [`status = '${DeliveryStatus.PENDING}'`, 'attempts = 0', 'next_attempt_at = now()'],
      params: p,
    });
    const outcome = outcomeOf<WebhookDelivery>(await runWrite(poolQuery(this.db), statement));
    if (!outcome.changed) throw new NotFoundError('webhook delivery', deliveryId, 'deliveryId');
    return outcome.row;
  }

  private async change(
    scope: RequestScope,
    operation: string,
    id: string,
    values: Record<string, unknown>,
    expectedVersion?: number | null,
    where?: string[],
  ): Promise<Webhook> {
    const p = new Params();
    const idRef = `${p.add(id)}::uuid`;
    const columns = entityColumns(this.db, Webhook);
    const set: string[] = [];
    for (const [prop, value] of Object.entries(values)) {
      const a = columns.assign(prop, value, p);
      if (a) set.push(`${a.column} = ${prop === 'events' ? `${a.value}::text[]` : a.value}`);
    }
    const statement = auditedStatement(scope, this.table, {
      kind: 'update',
      operation,
      id: idRef,
      set,
      where: set.length === 0 ? ['false'] : where,
      expectedVersion,
      params: p,
    });
    const result = changedRow(outcomeOf<Webhook>(await runWrite(poolQuery(this.db), statement)), 'webhook', id, expectedVersion);
    return 'row' in result ? result.row : result.current;
  }

  /** The URL's syntax, scheme and every address it resolves to now (checked again at each attempt). */
  private async checkedUrl(text: string): Promise<string> {
    try {
      const url = parseWebhookUrl(text, this.rules);
      await resolveTarget(url, this.rules);
      return url.toString();
    } catch (error) {
      if (error instanceof RefusedUrl) throw new BadInputError('url', error.message, { reason: error.code });
      throw error;
    }
  }
}

const active = () => ({ status: WebhookStatus.ACTIVE, disabledReason: null, disabledAt: null });
const disabled = (reason: WebhookDisabledReason) => ({ status: WebhookStatus.DISABLED, disabledReason: reason, disabledAt: new Date() });

function checkedEvents(events: string[]): string[] {
  const unknown = events.filter((e) => !(EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length > 0) throw new BadInputError('events', `unknown event type ${unknown[0].slice(0, 50)}: use ${EVENT_TYPES.join(', ')}`);
  return [...new Set(events)];
}

/** The filter's shape now (as the tasks query refuses it), stored as given. */
function checkedFilter(filter: TaskFilter | null | undefined): TaskFilter | null {
  if (!filter) return null;
  taskFilterSql(filter, new Params());
  return JSON.parse(JSON.stringify(filter)) as TaskFilter;
}
