import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { TunnelStatusType } from './tunnel.types';

@Resolver(() => TunnelStatusType)
export class TunnelResolver {
  // Internal addresses and paths: operators only.
  @Authorized(Role.OPERATOR)
  @Query(() => TunnelStatusType, {
    description: 'The Cloudflare tunnel: enabled, tunnel id, hostnames and services, config path, credentials found.',
  })
  tunnel(@Ctx() ctx: Context): TunnelStatusType {
    const status = ctx.services.tunnel.status();
    return {
      enabled: status.enabled,
      tunnelId: status.tunnelId ?? null,
      configPath: status.configPath ?? null,
      credentialsFound: status.credentialsFound,
      configValid: status.configValid,
      writtenAt: status.writtenAt ?? null,
      hostnames: status.hostnames,
      routes: status.routes.map((r) => ({ hostname: r.hostname ?? null, path: r.path ?? null, service: r.service })),
      metrics: status.metrics ?? null,
      problems: status.problems,
    };
  }
}
