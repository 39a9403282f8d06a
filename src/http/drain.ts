import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

interface InFlight {
  method: string;
  url: string;
  requestId?: string;
  started: number;
}

/**
 * Knows every socket and every request in flight on one HTTP server, so that a shutdown resets
 * nothing the server has read: once draining, every answer carries `Connection: close` (those not
 * yet sent included), so keep-alive sockets close after their last answer; idle ones are closed at
 * once when the server stops accepting. Register it before the request handler.
 */
export class HttpDrain {
  private readonly requestsBySocket = new Map<Socket, number>();
  private readonly inFlight = new Map<ServerResponse, InFlight>();
  private idleWaiters: (() => void)[] = [];
  private isDraining = false;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.requestsBySocket.set(socket, 0);
      socket.once('close', () => {
        this.requestsBySocket.delete(socket);
        this.notifyIfIdle();
      });
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket;
      this.requestsBySocket.set(socket, (this.requestsBySocket.get(socket) ?? 0) + 1);
      this.inFlight.set(res, { method: req.method ?? '?', url: req.url ?? '?', started: Date.now() });
      if (this.isDraining) res.setHeader('Connection', 'close');
      res.once('close', () => {
        this.inFlight.delete(res);
        const left = (this.requestsBySocket.get(socket) ?? 1) - 1;
        if (this.requestsBySocket.has(socket)) this.requestsBySocket.set(socket, left);
        // No socket.end() here: an answer sent keep-alive before the drain began may already have
        // the client's next request on its way, which is then read and answered with
        // Connection: close (ending the socket now would reset that request after it ran).
        this.notifyIfIdle();
      });
    });
  }

  get draining(): boolean {
    return this.isDraining;
  }

  /** From now on every answer closes its connection (readiness reports shutting_down). */
  start(): void {
    this.isDraining = true;
    for (const res of this.inFlight.keys()) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  /** Stops accepting and closes the sockets that carry no request; resolves once every socket is closed, or false at `deadline`. */
  async close(deadline: number): Promise<boolean> {
    this.start();
    // Stops accepting. Not http.Server#close: it destroys every socket whose last answer has been
    // ended, though that answer may still sit unsent in the socket's buffer (a 200 logged, a reset
    // received). Sockets without a request are closed here: destroyed when nothing is left to send
    // (a request arriving on them is then never read, so never run), else ended after the send.
    if (this.server.listening) NetServer.prototype.close.call(this.server);
    for (const [socket, requests] of this.requestsBySocket) {
      if (requests === 0) socket.writableLength === 0 ? socket.destroy() : socket.end();
    }
    const drained =
      this.requestsBySocket.size === 0 ||
      (await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      }));
    if (drained) this.server.close(); // nothing left to destroy; clears http.Server's own timers
    return drained;
  }

  /** The requests still running (for the log line when the deadline cuts them). */
  running(): InFlight[] {
    return [...this.inFlight.values()];
  }

  /** Closes every socket now (after the deadline). */
  destroyAll(): void {
    this.server.closeAllConnections();
    for (const socket of this.requestsBySocket.keys()) socket.destroy();
    this.server.close();
  }

  private notifyIfIdle(): void {
    if (this.requestsBySocket.size > 0 || this.inFlight.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
