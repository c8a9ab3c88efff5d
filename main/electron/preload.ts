/**
 * The preload of the quicscope window (sandboxed: CommonJS, `electron` is the only module it may
 * require). It exposes exactly the contract — `window.quicscope.invoke(method, args)` and
 * `onBatch(listener)` — through contextBridge; the page gets no ipcRenderer, no Node. A failed
 * request rejects with an Error whose message is the contract's RequestError as JSON (errors lose
 * their class across contextBridge; the renderer's bridge turns it back into a BridgeError).
 */
import { IPC_CHANNELS, isRequestName } from '../ipc/contract.ts';
import type { QuicscopeBridge, RequestOutcome, SessionBatch } from '../ipc/contract.ts';
import type { ElectronPreload } from './electron-api.ts';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- see electron-api.ts
const { contextBridge, ipcRenderer } = require('electron') as ElectronPreload;

const bridge: QuicscopeBridge = {
  async invoke(method, args) {
    if (!isRequestName(method))
      throw new Error(JSON.stringify({ kind: 'bad_request', message: `unknown request ${String(method)}` }));
    const outcome = (await ipcRenderer.invoke(IPC_CHANNELS.invoke, method, args)) as RequestOutcome;
    if (outcome.ok) return outcome.value as never;
    throw new Error(JSON.stringify(outcome.error));
  },
  onBatch(listener) {
    const handler = (_event: unknown, batch: unknown): void => listener(batch as SessionBatch);
    ipcRenderer.on(IPC_CHANNELS.batch, handler);
    return () => ipcRenderer.removeListener(IPC_CHANNELS.batch, handler);
  },
};

contextBridge.exposeInMainWorld('quicscope', bridge);
