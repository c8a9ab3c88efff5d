/**
 * Web mode's transport of the contract: a WebSocket to main/web at /ws?token=…, the token taken
 * from the page's own URL. Requests are `invoke` messages answered by `result` messages with the
 * same id; batches arrive unasked. It reconnects by itself and fails pending requests on a drop.
 */
import {
  BridgeError,
  CONTRACT_VERSION,
  WS_PATH,
  type ClientMessage,
  type QuicscopeBridge,
  type RequestArgs,
  type RequestName,
  type RequestResult,
  type ServerMessage,
  type SessionBatch,
} from '../../../main/ipc/contract.ts';

import type { LinkState } from './link.ts';

export type { LinkState };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: BridgeError) => void;
}

/** A QuicscopeBridge over a WebSocket (web mode). */
export class WebSocketBridge implements QuicscopeBridge {
  private ws: WebSocket | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly batchListeners = new Set<(batch: SessionBatch) => void>();
  private readonly linkListeners = new Set<(state: LinkState, detail: string) => void>();
  private retryDelay = 250;
  private closedByUser = false;

  constructor(private readonly url: string) {}

  /** Builds the bridge for this page: same host, `WS_PATH`, the page's `token` parameter. */
  static fromLocation(loc: Location): WebSocketBridge {
    const token = new URLSearchParams(loc.search).get('token') ?? '';
    const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    return new WebSocketBridge(`${scheme}//${loc.host}${WS_PATH}?token=${encodeURIComponent(token)}`);
  }

  /** Subscribes to link state changes. */
  onLink(listener: (state: LinkState, detail: string) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  invoke<K extends RequestName>(method: K, args: RequestArgs<K>): Promise<RequestResult<K>> {
    return this.connect().then(
      () =>
        new Promise<RequestResult<K>>((resolve, reject) => {
          const id = this.nextId++;
          this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
          const msg: ClientMessage = { type: 'invoke', id, method, args };
          this.ws?.send(JSON.stringify(msg));
        }),
    );
  }

  onBatch(listener: (batch: SessionBatch) => void): () => void {
    this.batchListeners.add(listener);
    void this.connect().catch(() => undefined);
    return () => this.batchListeners.delete(listener);
  }

  /** Closes the socket for good (tests, page unload). */
  close(): void {
    this.closedByUser = true;
    this.ws?.close();
  }

  private emitLink(state: LinkState, detail: string): void {
    for (const l of this.linkListeners) l(state, detail);
  }

  private connect(): Promise<void> {
    if (this.ready !== null) return this.ready;
    this.emitLink('connecting', '');
    const ready = new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      let helloSeen = false;
      ws.onmessage = (e: MessageEvent) => {
        let msg: ServerMessage;
        try {
          msg = JSON.parse(typeof e.data === 'string' ? e.data : '') as ServerMessage;
        } catch {
          return;
        }
        if (msg.type === 'batch') {
          for (const l of this.batchListeners) l(msg.batch);
        } else if (msg.type === 'result') {
          const p = this.pending.get(msg.id);
          if (p === undefined) return;
          this.pending.delete(msg.id);
          if (msg.outcome.ok) p.resolve(msg.outcome.value);
          else p.reject(new BridgeError(msg.outcome.error.kind, msg.outcome.error.message));
        } else if (msg.type === 'hello') {
          helloSeen = true;
          if (msg.contractVersion !== CONTRACT_VERSION) {
            const why = `main speaks contract v${msg.contractVersion}, this window v${CONTRACT_VERSION}: reload`;
            this.emitLink('closed', why);
            reject(new BridgeError('internal', why));
            ws.close();
            return;
          }
          this.retryDelay = 250;
          this.emitLink('open', '');
          resolve();
        }
      };
      ws.onclose = (e: CloseEvent) => {
        const why = helloSeen
          ? 'the connection to quicscope was lost'
          : e.code === 1006
            ? 'cannot reach quicscope (is `npm run web` running, and is the token in the URL right?)'
            : `quicscope refused the connection (${e.code}${e.reason ? ` ${e.reason}` : ''})`;
        for (const p of this.pending.values()) p.reject(new BridgeError('io', why));
        this.pending.clear();
        this.ws = null;
        this.ready = null;
        this.emitLink('closed', why);
        reject(new BridgeError('io', why));
        if (!this.closedByUser && this.batchListeners.size > 0) {
          // Reconnect with backoff; batches resume (the window sees a gap in `seq`).
          setTimeout(() => void this.connect().catch(() => undefined), this.retryDelay);
          this.retryDelay = Math.min(this.retryDelay * 2, 5000);
        }
      };
    });
    this.ready = ready;
    return ready;
  }
}
