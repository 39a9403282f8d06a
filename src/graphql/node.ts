import { Field, ID, InterfaceType } from 'type-graphql';

/** Set on a row fetched by node/nodes: the GraphQL type it is (rows from SQL are plain objects). */
export const NODE_TYPE = '__nodeType';

/**
 * Relay's Node: an object with a global id, refetched with `node(id:)` / `nodes(ids:)`. The
 * global id is the row's UUID as it is (gen_random_uuid values are unique across tables), so
 * clients that read `id` before keep the same value; only its type is ID now.
 */
@InterfaceType({
  description: "An object with a global id (Relay). The id is the row's UUID; refetch it with node(id:) or nodes(ids:).",
  // Replaced by a synchronous one in schema.ts (graphql-jit); this one is what type-graphql checks.
  resolveType: (value: { [NODE_TYPE]?: string }) => value[NODE_TYPE],
})
export abstract class Node {
  @Field(() => ID, { description: "Global id: the row's UUID." })
  id!: string;
}
