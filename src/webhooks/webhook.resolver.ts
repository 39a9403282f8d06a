import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, Field, Float, Info, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import { ConnectionArgs, connectionType } from '../graphql/connection';
import { type Connection } from '../db/reads/keyset';
import type { Context } from '../graphql/context';
import { UUIDScalar } from '../graphql/scalars';
import { connectionSelection } from '../graphql/selection';
import { DeliveryStatus, Webhook, WebhookDelivery, WebhookDisabledReason } from './webhook.entity';
import {
  CreateWebhookInput,
  RedeliverWebhookEventInput,
  RotateWebhookSecretInput,
  UpdateWebhookInput,
  WebhookIdInput,
  WebhookWithSecret,
} from './webhook.inputs';

export const WebhookConnection = connectionType(Webhook, 'Webhook', 'A page of webhooks, newest first (Relay connection).');
export const WebhookDeliveryConnection = connectionType(
  WebhookDelivery,
  'WebhookDelivery',
  'A page of one webhook’s deliveries, newest event first (Relay connection).',
);

@ObjectType()
class DisabledWebhooks {
  @Field(() => WebhookDisabledReason)
  reason!: WebhookDisabledReason;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: 'Whether webhook delivery keeps up, for operators (also in /metrics).' })
export class WebhookHealth {
  @Field(() => [DisabledWebhooks], { description: 'Endpoints disabled, by reason: EXHAUSTED and GONE need someone to look.' })
  disabled!: DisabledWebhooks[];

  @Field(() => Int, { description: 'Events queued for active endpoints and not yet delivered.' })
  pending!: number;

  @Field(() => Float, { description: 'Age of the oldest of them (seconds; 0 when none).' })
  oldestPendingSeconds!: number;

  @Field(() => Int, { description: 'Change-log rows the fan-out has not looked at yet.' })
  changeLogBacklog!: number;
}

@Resolver(() => Webhook)
export class WebhookResolver {
  @Authorized(Role.ADMIN)
  @Query(() => WebhookConnection, { description: 'Webhook endpoints, newest first (admin).' })
  webhooks(
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Webhook>> {
    const selection = connectionSelection(info);
    return ctx.services.webhooks.page({ args, fields: selection.nodeFields, withTotal: selection.totalCount });
  }

  @Authorized(Role.ADMIN)
  @Query(() => WebhookDeliveryConnection, { description: "One webhook's delivery log, newest event first (admin)." })
  webhookDeliveries(
    @Arg('webhookId', () => UUIDScalar) webhookId: string,
    @Arg('status', () => [DeliveryStatus], { nullable: true }) status: DeliveryStatus[] | null,
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<WebhookDelivery>> {
    const selection = connectionSelection(info);
    return ctx.services.webhooks.deliveries({ webhookId, status, args, fields: selection.nodeFields, withTotal: selection.totalCount });
  }

  @Authorized(Role.VIEWER)
  @Query(() => WebhookHealth, { description: 'Disabled endpoints and the delivery backlog.' })
  webhookHealth(@Ctx() ctx: Context): Promise<WebhookHealth> {
    return ctx.services.webhookDispatcher.health();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => WebhookWithSecret, { description: 'A new endpoint; its signing secret is answered here only.' })
  createWebhook(@Arg('input', () => CreateWebhookInput) input: CreateWebhookInput, @Ctx() ctx: Context): Promise<WebhookWithSecret> {
    return ctx.services.webhooks.create(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Webhook)
  updateWebhook(@Arg('input', () => UpdateWebhookInput) input: UpdateWebhookInput, @Ctx() ctx: Context): Promise<Webhook> {
    return ctx.services.webhooks.update(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Webhook, { description: 'Stops deliveries (status DISABLED, reason MANUAL); updateWebhook(enabled: true) resumes.' })
  disableWebhook(@Arg('input', () => WebhookIdInput) input: WebhookIdInput, @Ctx() ctx: Context): Promise<Webhook> {
    return ctx.services.webhooks.disable(ctx, input.id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Webhook, { description: 'Deletes an endpoint and its delivery log; returns it as it was.' })
  deleteWebhook(@Arg('input', () => WebhookIdInput) input: WebhookIdInput, @Ctx() ctx: Context): Promise<Webhook> {
    return ctx.services.webhooks.delete(ctx, input.id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => WebhookWithSecret, {
    description: 'A new signing secret (answered here only); the old one signs too for overlapSeconds.',
  })
  rotateWebhookSecret(
    @Arg('input', () => RotateWebhookSecretInput) input: RotateWebhookSecretInput,
    @Ctx() ctx: Context,
  ): Promise<WebhookWithSecret> {
    return ctx.services.webhooks.rotateSecret(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => WebhookDelivery, { description: 'Sends a logged event again under its webhook-id, with a fresh retry schedule.' })
  redeliverWebhookEvent(
    @Arg('input', () => RedeliverWebhookEventInput) input: RedeliverWebhookEventInput,
    @Ctx() ctx: Context,
  ): Promise<WebhookDelivery> {
    return ctx.services.webhooks.redeliver(ctx, input.deliveryId);
  }
}
