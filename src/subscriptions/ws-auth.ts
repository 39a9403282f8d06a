import type { GraphQLError } from 'graphql';
import { budgetKey, type Principal } from '../auth/principal';
import type { Logger } from '../logger';
import type { Authenticator } from '../security/authenticate';
import { CLOSE_CODES, closeSocket, type SocketState } from './ws-socket';

export interface SocketAuthOptions {
  authenticator: Authenticator;
  logger: Logger;
  /** SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN */
  maxSocketsPerToken: number;
  /** How often the open sockets' tokens are checked again. */
  recheckMs: number;
}

/**
 * Who holds each socket: the token given at connection_init, checked as HTTP checks it (the same
 * authenticator), at most SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN sockets per token on this instance,
 * and a periodic recheck that closes the sockets of a token revoked or expired meanwhile.
 */
export class SocketAuth {
  /** The sockets past connection_init. */
  readonly sockets = new Set<SocketState>();
  private readonly perToken = new Map<string, number>();
  // Sockets arriving together with one token (a reconnect storm after another instance drained)
  // share one check: the authenticator's cache only helps once the first check is done.
  private readonly checking = new Map<string | undefined, Promise<Principal>>();
  private readonly recheck: NodeJS.Timeout;

  constructor(private readonly o: SocketAuthOptions) {
    // Tokens are checked again while sockets stay open: a revoked or expired token closes its
    // sockets. Through the same authenticator (and its AUTH_TOKEN_CACHE_SECONDS cache), once per
    // token per round, so a revocation made elsewhere is seen within the cache time plus one round.
    this.recheck = setInterval(() => this.recheckAll(), o.recheckMs);
    this.recheck.unref();
  }

  /** connection_init: true when the socket may go on; else it has been closed with the reason. */
  async connect(state: SocketState, connectionParams: Record<string, unknown> | undefined): Promise<boolean> {
    const params = connectionParams ?? {};
    const given = params.Authorization ?? params.authorization;
    const authorization = typeof given === 'string' ? given : undefined;
    let principal: Principal;
    try {
      principal = await this.authenticate(authorization);
    } catch (error) {
      const message = error instanceof Error ? error.message : 'Authentication failed';
      const unavailable = (error as GraphQLError)?.extensions?.code === 'SERVICE_UNAVAILABLE';
      this.o.logger.warn('subscriptions: authentication refused', { reason: message });
      closeSocket(state, unavailable ? CLOSE_CODES.TRY_AGAIN_LATER : CLOSE_CODES.UNAUTHORIZED, message.slice(0, 120));
      return false;
    }
    // Gone while its token was checked: onClose has run already, so it must not be counted.
    if (state.socket.readyState !== state.socket.OPEN) return false;
    const key = budgetKey(principal);
    const open = this.perToken.get(key) ?? 0;
    if (open >= this.o.maxSocketsPerToken) {
      const reason = `Too many sockets for this token (SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN=${this.o.maxSocketsPerToken})`;
      closeSocket(state, CLOSE_CODES.TOO_MANY_SOCKETS, reason);
      return false;
    }
    this.perToken.set(key, open + 1);
    Object.assign(state, { principal, authorization });
    this.sockets.add(state);
    return true;
  }

  /** The socket closed: its token holds one socket fewer. */
  disconnect(state: SocketState | undefined): void {
    if (!state || !this.sockets.delete(state) || !state.principal) return;
    const key = budgetKey(state.principal);
    const left = (this.perToken.get(key) ?? 1) - 1;
    if (left > 0) this.perToken.set(key, left);
    else this.perToken.delete(key);
  }

  stop(): void {
    clearInterval(this.recheck);
  }

  private authenticate(authorization: string | undefined): Promise<Principal> {
    let check = this.checking.get(authorization);
    if (!check) {
      check = this.o.authenticator.authenticate(authorization).finally(() => this.checking.delete(authorization));
      this.checking.set(authorization, check);
    }
    return check;
  }

  private recheckAll(): void {
    const byCredential = new Map<string, SocketState[]>();
    for (const state of this.sockets) {
      if (state.authorization === undefined) continue;
      const list = byCredential.get(state.authorization) ?? [];
      list.push(state);
      byCredential.set(state.authorization, list);
    }
    for (const [authorization, states] of byCredential) {
      this.authenticate(authorization).catch((error: GraphQLError) => {
        // A database outage is no reason to drop sockets: only a token found bad closes them.
        if (error?.extensions?.code !== 'UNAUTHENTICATED') return;
        for (const state of states) closeSocket(state, CLOSE_CODES.UNAUTHORIZED, error.message.slice(0, 120));
      });
    }
  }
}
