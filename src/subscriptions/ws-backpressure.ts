import type { Logger } from '../logger';
import { CLOSE_CODES, closeSocket, type SocketState } from './ws-socket';

/**
 * Slow consumers: a socket whose send buffer passed SUBSCRIPTION_MAX_BUFFERED_BYTES, or whose
 * subscription stayed behind after its queue overflowed (change-hub.ts), is closed with 4008; the
 * client reconnects and resumes with `after`.
 */
export class Backpressure {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    private readonly maxBufferedBytes: number,
    sockets: Iterable<SocketState>,
  ) {
    // Also between events: graphql-ws waits for each send to be written before the next, so a peer
    // that stops reading leaves its data in the socket's buffer.
    this.timer = setInterval(() => {
      for (const state of sockets) this.check(state);
    }, 1_000);
    this.timer.unref();
  }

  /** Closes the socket when its send buffer is over the cap (after each event sent, and every second). */
  check(state: SocketState): void {
    if (state.socket.bufferedAmount > this.maxBufferedBytes) this.slowConsumer(state, `send buffer over ${this.maxBufferedBytes} bytes`);
  }

  slowConsumer(state: SocketState, why: string): void {
    if (state.socket.readyState !== state.socket.OPEN) return;
    this.logger.warn('subscriptions: slow consumer closed', { why, principal: state.principal?.id });
    closeSocket(state, CLOSE_CODES.SLOW_CONSUMER, `Slow consumer: ${why}; reconnect with after: <last cursor>`);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
