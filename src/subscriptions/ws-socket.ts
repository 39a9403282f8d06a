import type { WebSocket } from 'ws';
import type { Principal } from '../auth/principal';

/**
 * WebSocket close codes this gateway uses (README "Subscriptions"); graphql-ws's own codes
 * (4400 bad request, 4408 init timeout, 4409 duplicate id, 4429 repeated init, 4500) apply as well.
 */
export const CLOSE_CODES = {
  /** Service restart (the instance is draining): reconnect, to this or another instance, resuming with `after: <last cursor>`. */
  SERVICE_RESTART: 1012,
  /** No, an invalid, a revoked or an expired token (at connection_init, or found on a periodic recheck). Do not retry with the same token. */
  UNAUTHORIZED: 4401,
  /** Try again later: the token could not be checked (the database is unavailable). */
  TRY_AGAIN_LATER: 1013,
  /** This token already holds SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN sockets on this instance. */
  TOO_MANY_SOCKETS: 4029,
  /** Slow consumer: the socket's send buffer or a subscription's queue passed its cap. Reconnect and resume with `after`. */
  SLOW_CONSUMER: 4008,
} as const;

/** One graphql-ws socket: who it is (after connection_init), with which credential, and its running subscriptions. */
export interface SocketState {
  principal?: Principal;
  authorization?: string;
  socket: WebSocket;
  active: Set<string>;
}

/** Closes an open socket with a code and reason; a peer that never answers the close frame is cut after 1 s. */
export function closeSocket(state: SocketState, code: number, reason: string): void {
  if (state.socket.readyState !== state.socket.OPEN) return;
  state.socket.close(code, reason);
  // A peer that no longer reads never answers the close frame: do not hold its buffers for ws's 30 s.
  setTimeout(() => state.socket.terminate(), 1_000).unref();
}
