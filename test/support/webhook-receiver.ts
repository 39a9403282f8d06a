import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  seq: number;
  timestamp: string;
  signature: string;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, any> };
  /** Whether the signature verified (with the standardwebhooks library) under the receiver's secret. */
  verified: boolean;
  /** What the receiver answered. */
  answered: number;
  at: number;
}

/**
 * A real HTTP receiver on 127.0.0.1: records every request, verifies its signature with the
 * Standard Webhooks reference library, and answers what `answer` says (200 by default).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  secrets: string[] = [];
  answer: (r: Omit<Received, 'answered'>) => number | Promise<number> = () => 200;
  private server!: Server;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const headers = req.headers as IncomingHttpHeaders & Record<string, string>;
          const id = headers['webhook-id'];
          const verified = this.secrets.length > 0 && this.secrets.every((secret) => verifies(secret, body, headers));
          const r = {
            id,
            seq: Number(String(id).replace(/^msg_/, '')),
            timestamp: headers['webhook-timestamp'],
            signature: headers['webhook-signature'],
            body,
            payload: JSON.parse(body),
            verified,
            at: Date.now(),
          };
          const status = await this.answer(r);
          this.received.push({ ...r, answered: status });
          res.writeHead(status, { 'content-type': 'text/plain' });
          res.end(status < 300 ? 'ok' : `no: ${status}`);
        })();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** The ids answered 2xx, in the order they arrived. */
  accepted(): Received[] {
    return this.received.filter((r) => r.answered < 300);
  }

  async waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
    const until = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}; received ${this.received.length}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Whether `body` with these headers verifies under `secret` (the standardwebhooks package: not our code). */
export function verifies(secret: string, body: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': headers['webhook-id'],
      'webhook-timestamp': headers['webhook-timestamp'],
      'webhook-signature': headers['webhook-signature'],
    });
    return true;
  } catch {
    return false;
  }
}
