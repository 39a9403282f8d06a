/**
 * The Redis test/setup/redis.ts picked for this run, and `it`/`describe` that skip when there is
 * none (the set-up printed why and how to get one).
 */
export const testRedisUrl = process.env.TEST_REDIS_RESOLVED_URL ?? '';

export const itWithRedis: jest.It = testRedisUrl ? it : it.skip;
export const describeWithRedis: jest.Describe = testRedisUrl ? describe : describe.skip;
