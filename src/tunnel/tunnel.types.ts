import { Field, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../graphql/scalars';

@ObjectType('TunnelRoute', { simpleResolvers: true, description: 'One ingress rule of the generated cloudflared config, in match order.' })
export class TunnelRouteType {
  @Field(() => String, { nullable: true, description: 'Null for the final catch-all rule.' })
  hostname!: string | null;

  @Field(() => String, { nullable: true, description: 'An anchored Go regular expression on the request path, or null for any path.' })
  path!: string | null;

  @Field({ description: 'Where cloudflared sends matching requests: http://…, tcp://host:port, or http_status:404.' })
  service!: string;
}

@ObjectType('TunnelStatus', {
  simpleResolvers: true,
  description: 'The Cloudflare tunnel config this gateway generated at start-up. Never includes the tunnel secret.',
})
export class TunnelStatusType {
  @Field({ description: 'CLOUDFLARE_ENABLED: whether the gateway generates a tunnel config at all.' })
  enabled!: boolean;

  @Field(() => String, { nullable: true, description: 'The tunnel UUID (CLOUDFLARE_TUNNEL_ID).' })
  tunnelId!: string | null;

  @Field(() => String, { nullable: true, description: 'Where the config was written (CLOUDFLARE_CONFIG_FILE).' })
  configPath!: string | null;

  @Field({
    description: 'The credentials file exists, parses and belongs to this tunnel (checked at start-up; its secret is never read out).',
  })
  credentialsFound!: boolean;

  @Field({ description: 'The file on disk is still the one the gateway wrote, and cloudflared would accept it.' })
  configValid!: boolean;

  @Field(() => DateTimeScalar, { nullable: true })
  writtenAt!: Date | null;

  @Field(() => [String], { description: 'The public hostnames the tunnel serves.' })
  hostnames!: string[];

  @Field(() => [TunnelRouteType])
  routes!: TunnelRouteType[];

  @Field(() => String, { nullable: true, description: "cloudflared's Prometheus address (host:port), when enabled." })
  metrics!: string | null;

  @Field(() => [String], { description: 'Why the config is not valid now; empty when it is.' })
  problems!: string[];
}
