/**
 * The window's one way to main/: the contract's `QuicscopeBridge`, from Electron's preload
 * (`window.quicscope`, exposed with contextBridge) or, in a browser, web mode's WebSocket.
 */
import type { QuicscopeBridge } from '../../../main/ipc/contract.ts';
import { toBridgeError } from './errors.ts';
import { WebSocketBridge } from './websocket.ts';
import type { LinkState } from './link.ts';

export type { LinkState };
export { toBridgeError };

declare global {
  interface Window {
    /** Set by main/electron's preload in the Electron app; absent in web mode. */
    quicscope?: QuicscopeBridge;
  }
}

/** The bridge and how it is carried. */
export interface BridgeHandle {
  bridge: QuicscopeBridge;
  transport: 'electron' | 'web';
  /** Link state changes (web mode only; Electron's IPC is always up). */
  onLink: (listener: (state: LinkState, detail: string) => void) => () => void;
}

/** Wraps a bridge so every rejection is a BridgeError. */
function normalized(inner: QuicscopeBridge): QuicscopeBridge {
  return {
    invoke: (method, args) =>
      inner.invoke(method, args).catch((e: unknown) => Promise.reject(toBridgeError(e))),
    onBatch: (listener) => inner.onBatch(listener),
  };
}

/** Picks the transport for this page. */
export function createBridge(win: Window): BridgeHandle {
  if (win.quicscope !== undefined) {
    return { bridge: normalized(win.quicscope), transport: 'electron', onLink: () => () => undefined };
  }
  const ws = WebSocketBridge.fromLocation(win.location);
  return { bridge: normalized(ws), transport: 'web', onLink: (l) => ws.onLink(l) };
}
