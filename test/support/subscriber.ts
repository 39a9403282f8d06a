import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** What one subscription received, as a graphql-ws client saw it. */
export interface Received {
  events: any[];
  errors: any[];
  completed: boolean;
  /** Resolves once `n` events arrived (rejects after `timeoutMs`). */
  next(n: number, timeoutMs?: number): Promise<any[]>;
  /** Resolves once the subscription ended with an error or completed. */
  ended: Promise<void>;
  stop(): void;
}

export interface Subscriber {
  client: Client;
  /** The close event of the socket, once closed. */
  closed: Promise<{ code: number; reason: string }>;
  subscribe(query: string, variables?: Record<string, unknown>): Received;
  dispose(): Promise<void>;
}

/** A graphql-ws client (with `ws` as its WebSocket) on a gateway's /graphql, sending the token in connection_init. */
export function connect(baseUrl: string, token: string | null, options: { headers?: Record<string, string> } = {}): Subscriber {
  let onClose!: (event: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClose = resolve));
  class HeaderSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: options.headers });
    }
  }
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: HeaderSocket,
    connectionParams: token === null ? {} : { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: { closed: (event: any) => onClose({ code: event.code, reason: String(event.reason) }) },
  });
  return {
    client,
    closed,
    subscribe(query, variables) {
      const received: Received = { events: [], errors: [], completed: false } as any;
      const waiters: (() => void)[] = [];
      const wake = () => waiters.splice(0).forEach((w) => w());
      let end!: () => void;
      received.ended = new Promise<void>((resolve) => (end = resolve));
      const stop = client.subscribe(
        { query, variables },
        {
          next: (value) => {
            if (value.errors) received.errors.push(...value.errors);
            if (value.data) received.events.push(value.data);
            wake();
          },
          error: (error) => {
            received.errors.push(Array.isArray(error) ? error[0] : error);
            end();
            wake();
          },
          complete: () => {
            received.completed = true;
            end();
            wake();
          },
        },
      );
      received.stop = stop;
      received.next = (n, timeoutMs = 15_000) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`got ${received.events.length} of ${n} events; errors: ${JSON.stringify(received.errors)}`)),
            timeoutMs,
          );
          const check = () => {
            if (received.events.length >= n) {
              clearTimeout(timer);
              resolve(received.events);
            } else if (received.completed || received.errors.length > 0) {
              clearTimeout(timer);
              reject(new Error(`ended after ${received.events.length} of ${n} events; errors: ${JSON.stringify(received.errors)}`));
            } else waiters.push(check);
          };
          check();
        });
      return received;
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}

/** Waits until the gateway's /metrics shows at least `n` running subscriptions (so no event is sent before they listen). */
export async function subscriptionsActive(baseUrl: string, n: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    const value = Number(/^graphql_subscriptions_active (\d+)/m.exec(text)?.[1] ?? 0);
    if (value >= n) return;
    if (Date.now() > until) throw new Error(`${value} of ${n} subscriptions active`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
