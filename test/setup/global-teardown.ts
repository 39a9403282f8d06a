export default async function globalTeardown(): Promise<void> {
  const g = globalThis as any;
  await g.__PG_EMBEDDED__?.stop();
  await g.__PG_CONTAINER__?.stop();
  g.__REDIS_SERVER__?.kill();
}
