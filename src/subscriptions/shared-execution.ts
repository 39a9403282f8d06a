import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { requestStats, type ReadRoute } from '../request';
import { sharedRead } from './change-hub';
import type { ChangeEvent } from './change-log';

/**
 * graphql-ws's `subscribe`, with one difference from graphql-js's: an event is executed once per
 * (document, operation, variables, role) on this instance, and the result is shared by every
 * subscription that asked exactly that — 1,000 dashboards on the same board cost one execution per
 * change, not 1,000 (Hasura calls this multiplexing). Results cannot differ between principals of
 * one role: roles are checked on root fields only (the subscription itself, at subscribe time;
 * object-type fields may not carry @Authorized, see auth-checker.ts), and rows are not filtered by
 * principal. Replayed events are each subscriber's own objects, so they are executed per subscriber.
 * `route`: where an event's reads may go (a read replica that has replayed the change; src/db/replicas.ts).
 */
export async function subscribeShared(
  args: ExecutionArgs,
  shareKey: string,
  route?: (event: ChangeEvent) => ReadRoute | undefined,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in Object(stream))) return stream as ExecutionResult;
  const source = (stream as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const requestId = (args.contextValue as { requestId?: string } | undefined)?.requestId ?? 'subscription';
  const run = (event: unknown) =>
    sharedRead(event as ChangeEvent, `exec:${shareKey}`, async () => {
      const exec = () => execute({ ...args, rootValue: event }) as ExecutionResult | Promise<ExecutionResult>;
      const reads = route?.(event as ChangeEvent);
      return reads ? requestStats.run({ requestId, sqlStatements: 0, reads }, exec) : exec();
    });
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const item = await source.next();
      if (item.done) return item;
      return { done: false, value: await run(item.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
