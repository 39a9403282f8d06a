import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import { BadInputError } from '../errors';
import type { Context } from '../graphql/context';
import { Node, NODE_TYPE } from '../graphql/node';
import { executionByIdLoader } from '../executions/execution.loaders';
import { integrationByIdLoader } from '../integrations/integration.resolver';
import { metricByIdLoader } from '../metrics/metric.resolver';
import { taskByIdLoader } from '../tasks/task.loaders';
import type { NodeTypeName } from './node.service';

/** Most ids one nodes() call takes. */
export const MAX_NODE_IDS = 100;

/** Loads the rows of one type by id through the request's loaders: one statement per type. */
const LOADERS: Record<NodeTypeName, (ctx: Context, ids: string[]) => Promise<(object | Error | null)[]>> = {
  Task: (ctx, ids) => taskByIdLoader(ctx, null).loadMany(ids),
  TaskExecution: (ctx, ids) => executionByIdLoader(ctx, null).loadMany(ids),
  ExternalIntegration: (ctx, ids) => integrationByIdLoader(ctx).loadMany(ids),
  SystemMetric: (ctx, ids) => metricByIdLoader(ctx).loadMany(ids),
};

/**
 * `node(id:)` and `nodes(ids:)`: which table holds each id (one statement), then the rows of each
 * type (one statement per type present). An id that names no row, or is not a UUID, is null.
 */
@Resolver()
export class NodeResolver {
  @Authorized(Role.VIEWER)
  @Query(() => Node, { nullable: true, description: 'The object with this global id, or null.' })
  async node(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<object | null> {
    return (await resolveNodes(ctx, [id]))[0];
  }

  @Authorized(Role.VIEWER)
  @Query(() => [Node], {
    nullable: 'items',
    description: `The objects with these global ids, in their order (null where none); at most ${MAX_NODE_IDS}.`,
  })
  nodes(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: Context): Promise<(object | null)[]> {
    if (ids.length > MAX_NODE_IDS) throw new BadInputError('ids', `at most ${MAX_NODE_IDS} ids per call, got ${ids.length}`);
    return resolveNodes(ctx, ids);
  }
}

async function resolveNodes(ctx: Context, ids: string[]): Promise<(object | null)[]> {
  const types = await ctx.services.nodes.typesOf(ids);
  const byType = new Map<NodeTypeName, string[]>();
  for (const id of new Set(types.keys())) {
    const type = types.get(id) as NodeTypeName;
    byType.set(type, [...(byType.get(type) ?? []), id]);
  }
  const found = new Map<string, object>();
  await Promise.all(
    [...byType].map(async ([type, typeIds]) => {
      const rows = await LOADERS[type](ctx, typeIds);
      rows.forEach((row, i) => {
        if (row instanceof Error) throw row;
        if (row) found.set(typeIds[i], Object.assign(row, { [NODE_TYPE]: type }));
      });
    }),
  );
  return ids.map((id) => found.get(id.toLowerCase()) ?? null);
}
