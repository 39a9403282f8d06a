import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ChangeEvent } from './change-log';

/** What the live-update gauges read when scraped. */
export interface LiveGauges {
  sockets: () => number;
  subscriptions: () => number;
  listenerUp: () => boolean;
  polling: () => boolean;
}

/** The Prometheus metrics of live updates (docs/operations.md): delivery latency, log reads, sockets, subscriptions, the listener. */
export class LiveMetrics {
  private readonly latency: Histogram;
  private readonly reads: Counter;

  constructor(private readonly registry: Registry) {
    this.latency = new Histogram({
      name: 'graphql_subscription_delivery_seconds',
      help: 'From the change in the database (trigger time) to the event being handed to its subscription.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.reads = new Counter({
      name: 'graphql_subscription_log_reads_total',
      help: 'Statements that read the change log for live subscriptions (only while this instance has one).',
      registers: [registry],
    });
  }

  delivered(event: ChangeEvent): void {
    this.latency.observe(Math.max(0, Date.now() - new Date(event.occurredAt).getTime()) / 1000);
  }

  logRead(): void {
    this.reads.inc();
  }

  registerGauges(read: LiveGauges): void {
    this.gauge('graphql_ws_sockets', 'Open GraphQL WebSockets (graphql-ws) on this instance.', read.sockets);
    this.gauge('graphql_subscriptions_active', 'Subscriptions running on this instance.', read.subscriptions);
    this.gauge('graphql_subscription_listener_up', "1 while the change listener's connection is up, else 0.", () =>
      read.listenerUp() ? 1 : 0,
    );
    this.gauge(
      'graphql_subscription_listener_polling',
      '1 while the change listener reads the change log (this instance has a live subscription), else 0.',
      () => (read.polling() ? 1 : 0),
    );
  }

  private gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}
