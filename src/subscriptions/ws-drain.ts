import type { WebSocketServer } from 'ws';
import type { ChangeHub } from './change-hub';
import type { ChangeListener } from './change-listener';
import { CLOSE_CODES } from './ws-socket';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The WebSocket side of a graceful stop, once new upgrades are refused: stop reading changes, let
 * what was read go out (bounded by `timeoutMs`), then close every socket with 1012 (reconnect and
 * resume with `after`), and cut what has not closed a second later.
 */
export async function drainSockets(wss: WebSocketServer, listener: ChangeListener, hub: ChangeHub, timeoutMs: number): Promise<void> {
  await listener.stop();
  // In-flight events: what the listener already read is in the subscriptions' queues and the
  // sockets' buffers; wait (bounded) for them to go out.
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && (hub.pending() > 0 || [...wss.clients].some((s) => s.bufferedAmount > 0))) await pause(20);
  for (const socket of wss.clients)
    socket.close(CLOSE_CODES.SERVICE_RESTART, 'Service restart: reconnect and resume with after: <last cursor>');
  const closed = Date.now() + 1_000;
  while (wss.clients.size > 0 && Date.now() < closed) await pause(20);
  for (const socket of wss.clients) socket.terminate();
}
