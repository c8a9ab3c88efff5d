/**
 * The few Electron APIs main/electron uses, typed locally: the `electron` package (binary and
 * types) is not a dependency of this repository (its installer downloads a binary), so the code is
 * type-checked against these declarations and loads the real module at run time with `require`.
 * Names and signatures follow Electron's documentation (electronjs.org/docs/latest/api).
 */

/** An IPC event of ipcMain.handle. */
export interface IpcMainInvokeEvent {
  senderFrame: { url: string } | null;
}

/** webContents (the parts used). */
export interface WebContents {
  send(channel: string, ...args: unknown[]): void;
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (event: { preventDefault(): void }, url: string) => void,
  ): void;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
  isDestroyed(): boolean;
}

/** BrowserWindow constructor options (the parts used). */
export interface BrowserWindowOptions {
  width?: number;
  height?: number;
  minWidth?: number;
  minHeight?: number;
  show?: boolean;
  title?: string;
  backgroundColor?: string;
  icon?: string;
  webPreferences?: {
    preload?: string;
    contextIsolation?: boolean;
    nodeIntegration?: boolean;
    nodeIntegrationInWorker?: boolean;
    sandbox?: boolean;
    webSecurity?: boolean;
    allowRunningInsecureContent?: boolean;
    webviewTag?: boolean;
    spellcheck?: boolean;
    navigateOnDragDrop?: boolean;
  };
}

/** A BrowserWindow instance (the parts used). */
export interface BrowserWindow {
  readonly webContents: WebContents;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): void;
  show(): void;
  isDestroyed(): boolean;
}

/** The BrowserWindow class. */
export interface BrowserWindowClass {
  new (options: BrowserWindowOptions): BrowserWindow;
  getAllWindows(): BrowserWindow[];
  getFocusedWindow(): BrowserWindow | null;
}

/** dialog.showSaveDialog's options and result. */
export interface SaveDialogOptions {
  title?: string;
  defaultPath?: string;
  filters?: { name: string; extensions: string[] }[];
}

/** The Electron main-process module (the parts used). */
export interface ElectronMain {
  app: {
    whenReady(): Promise<void>;
    enableSandbox(): void;
    getPath(name: 'userData' | 'downloads'): string;
    getVersion(): string;
    on(event: 'window-all-closed' | 'activate', listener: () => void): void;
    on(event: 'web-contents-created', listener: (event: unknown, contents: WebContents) => void): void;
    on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): void;
    quit(): void;
    exit(code?: number): void;
  };
  BrowserWindow: BrowserWindowClass;
  ipcMain: {
    handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
  };
  dialog: {
    showSaveDialog(
      window: BrowserWindow | undefined,
      options: SaveDialogOptions,
    ): Promise<{ canceled: boolean; filePath?: string }>;
  };
  protocol: {
    registerSchemesAsPrivileged(
      schemes: {
        scheme: string;
        privileges: { standard?: boolean; secure?: boolean; supportFetchAPI?: boolean };
      }[],
    ): void;
    handle(
      scheme: string,
      handler: (request: { url: string; method: string }) => Response | Promise<Response>,
    ): void;
  };
  session: {
    defaultSession: {
      setPermissionRequestHandler(
        handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void,
      ): void;
    };
  };
}

/** The Electron renderer-side module as a sandboxed preload sees it (the parts used). */
export interface ElectronPreload {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
    removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
  };
}
