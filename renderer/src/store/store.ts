/**
 * The window's state (zustand): the app's presets and recent targets, and one view per session
 * built from its batches — the qlog events (packet log, handshake markers) and main/'s aggregates
 * (series, stream rows, requests, handshake). No second event model: rows are qlog-shaped.
 */
import { create } from 'zustand';
import type {
  AppInfo,
  ConnectionStatsLike,
  DatagramRow,
  H3RequestRow,
  H3RequestUpdate,
  HandshakeInfo,
  LocalServerInfo,
  OpenSessionOptions,
  Preset,
  RecentTarget,
  SeriesData,
  SessionBatch,
  SessionError,
  SessionId,
  SessionInfo,
  SessionState,
  StreamRow,
  StreamUpdate,
} from './types.ts';
import type { QuicscopeBridge } from '../../../main/ipc/contract.ts';
import { applyPayloadUpdate } from '../../../main/ipc/preview.ts';
import type { LinkState } from '../bridge/link.ts';
import { PacketLog } from './packet-log.ts';
import { emptyMarkers, updateMarkers, type Markers, type PacketRow } from '../lib/qlog.ts';
import { applySeriesUpdate } from '../lib/series.ts';

/** Rows kept for the handshake timeline: packets until handshake confirmation, and a few after. */
const HANDSHAKE_PACKETS_AFTER_CONFIRMED = 6;
const MAX_HANDSHAKE_PACKETS = 400;
const MAX_DATAGRAMS = 500;
const MAX_PENDING_BATCHES = 400;

/** A line of the session's activity log (results of the user's actions). */
export interface ActivityEntry {
  id: number;
  at: number;
  level: 'info' | 'error';
  text: string;
}

/** Everything the window shows about one session. */
export interface SessionView {
  info: SessionInfo;
  state: SessionState;
  error: SessionError | null;
  /** The seq of the last batch (or snapshot) applied; -1 before any. */
  lastSeq: number;
  /** Batches that never arrived (gaps in seq, e.g. after a reconnect). */
  missedBatches: number;
  qlogCount: number;
  qlogSkipped: number;
  /** Mutable packet log; `packetsVersion` changes whenever it does. */
  packets: PacketLog;
  packetsVersion: number;
  handshakePackets: PacketRow[];
  markers: Markers;
  series: SeriesData;
  streams: Record<number, StreamRow>;
  requests: Record<number, H3RequestRow>;
  datagrams: DatagramRow[];
  handshake: HandshakeInfo | null;
  stats: ConnectionStatsLike | null;
  activity: ActivityEntry[];
}

/** The whole window state and its actions. */
export interface AppState {
  bridge: QuicscopeBridge | null;
  transport: 'electron' | 'web';
  link: { state: LinkState; detail: string };
  appInfo: AppInfo | null;
  presets: Preset[];
  recent: RecentTarget[];
  localServer: LocalServerInfo | null;
  sessions: Record<SessionId, SessionView>;
  order: SessionId[];
  /** The selected tab: a session id, or 'new' for the connect form. */
  active: SessionId | 'new';
  /** A startup failure (cannot talk to main/). */
  fatal: string | null;

  attach(bridge: QuicscopeBridge, transport: 'electron' | 'web'): Promise<void>;
  setLink(state: LinkState, detail: string): void;
  setActive(id: SessionId | 'new'): void;
  refreshRecent(): Promise<void>;
  /** Opens a session and its tab; rejects with a BridgeError. */
  open(options: OpenSessionOptions): Promise<SessionInfo>;
  startLocalServer(): Promise<LocalServerInfo>;
  closeTab(id: SessionId): Promise<void>;
  applyBatch(batch: SessionBatch): void;
  logActivity(id: SessionId, level: 'info' | 'error', text: string): void;
}

/** An empty view of a session (nothing folded in yet). */
export function newView(
  info: SessionInfo,
  state: SessionState = 'connecting',
  error: SessionError | null = null,
): SessionView {
  return {
    info,
    state,
    error,
    lastSeq: -1,
    missedBatches: 0,
    qlogCount: 0,
    qlogSkipped: 0,
    packets: new PacketLog(),
    packetsVersion: 0,
    handshakePackets: [],
    markers: emptyMarkers(),
    series: {},
    streams: {},
    requests: {},
    datagrams: [],
    handshake: null,
    stats: null,
    activity: [],
  };
}

let activitySeq = 0;

/** Whether the handshake timeline still takes packets: all until confirmation, then a few more. */
function wantsHandshakeRow(m: Markers, rows: readonly PacketRow[]): boolean {
  if (rows.length >= MAX_HANDSHAKE_PACKETS) return false;
  const confirmed = m.handshakeConfirmedAt;
  if (confirmed === null) return true;
  let after = 0;
  for (let i = rows.length - 1; i >= 0 && rows[i].time > confirmed; i--) after++;
  return after < HANDSHAKE_PACKETS_AFTER_CONFIRMED;
}

/**
 * A request row from its update: the body updates the preview the window has (appended bytes, or
 * only the new total size: applyPayloadUpdate, main/ipc/preview.ts).
 */
export function mergeRequest(prev: H3RequestRow | undefined, u: H3RequestUpdate): H3RequestRow {
  return { ...u, body: applyPayloadUpdate(prev?.body, u.body) };
}

/** A stream row from its update: what arrived updates the preview the window has, as for bodies. */
export function mergeStream(prev: StreamRow | undefined, u: StreamUpdate): StreamRow {
  return { ...u, received: u.received === null ? null : applyPayloadUpdate(prev?.received, u.received) };
}

/** Whether a session view needs a snapshot after `batch`: it skipped batches, or came late. */
export function needsSnapshot(view: SessionView, batch: SessionBatch): boolean {
  if (batch.snapshot === true) return batch.seq < view.lastSeq;
  return batch.seq > view.lastSeq + 1;
}

/** Applies one batch to a session view, returning the new view (the packet log is updated in place). */
export function reduceBatch(view: SessionView, batch: SessionBatch): SessionView {
  if (batch.snapshot === true) return applySnapshot(view, batch);
  const v: SessionView = { ...view, state: batch.state, lastSeq: batch.seq };
  if (view.lastSeq >= 0 && batch.seq > view.lastSeq + 1) v.missedBatches += batch.seq - view.lastSeq - 1;
  if (batch.qlog.length > 0 || batch.qlogSkipped > 0) {
    v.qlogCount += batch.qlog.length;
    v.qlogSkipped += batch.qlogSkipped;
    const log = view.packets;
    const markers = { ...view.markers };
    let markersChanged = false;
    let packetsChanged = false;
    let hs: PacketRow[] | null = null;
    for (const ev of batch.qlog) {
      const before = log.total;
      if (log.add(ev)) packetsChanged = true;
      if (log.total > before && wantsHandshakeRow(markers, hs ?? view.handshakePackets)) {
        hs ??= view.handshakePackets.slice();
        hs.push(log.rows[log.rows.length - 1]);
      }
      if (updateMarkers(markers, ev)) markersChanged = true;
      // A handshake packet declared lost: the timeline shows it (rows are marked in place).
      const lost = ev.name === 'quic:packet_lost' ? log.lastLost : null;
      const hsRows = hs ?? view.handshakePackets;
      if (lost !== null && hsRows.length > 0 && lost.index <= hsRows[hsRows.length - 1].index) {
        hs ??= view.handshakePackets.slice();
      }
    }
    if (packetsChanged) v.packetsVersion++;
    if (markersChanged) v.markers = markers;
    if (hs !== null) v.handshakePackets = hs;
  }
  v.series = applySeriesUpdate(view.series, batch.series);
  if (batch.streams.length > 0) {
    v.streams = { ...view.streams };
    for (const row of batch.streams) v.streams[row.id] = mergeStream(view.streams[row.id], row);
  }
  if (batch.requests.length > 0) {
    v.requests = { ...view.requests };
    for (const row of batch.requests)
      v.requests[row.requestId] = mergeRequest(view.requests[row.requestId], row);
  }
  if (batch.datagrams.length > 0) v.datagrams = view.datagrams.concat(batch.datagrams).slice(-MAX_DATAGRAMS);
  if (batch.handshake !== undefined) v.handshake = batch.handshake;
  if (batch.error !== undefined) v.error = batch.error;
  if (batch.stats !== null) v.stats = batch.stats;
  return v;
}

/**
 * A snapshot (the `sessionSnapshot` answer): series, stream and request rows, handshake, state and
 * error as main/ has them at its `seq`; the packet log keeps what it has (the qlog is not resent).
 */
function applySnapshot(view: SessionView, snap: SessionBatch): SessionView {
  const v: SessionView = {
    ...view,
    state: snap.state,
    lastSeq: Math.max(view.lastSeq, snap.seq),
    series: applySeriesUpdate({}, snap.series),
    streams: {},
    requests: {},
  };
  for (const row of snap.streams) v.streams[row.id] = mergeStream(view.streams[row.id], row);
  for (const row of snap.requests)
    v.requests[row.requestId] = mergeRequest(view.requests[row.requestId], row);
  if (snap.handshake !== undefined) v.handshake = snap.handshake;
  if (snap.error !== undefined) v.error = snap.error;
  if (snap.stats !== null) v.stats = snap.stats;
  return v;
}

/** The store hook. */
export const useApp = create<AppState>()((set, get) => {
  /** Batches of sessions the window does not know yet (openSession has not answered). */
  const pending = new Map<SessionId, SessionBatch[]>();

  const addSession = (info: SessionInfo, state?: SessionState, error?: SessionError | null) => {
    let gap = false;
    set((s) => {
      if (s.sessions[info.sessionId] !== undefined) return s;
      let view = newView(info, state, error ?? null);
      for (const b of pending.get(info.sessionId) ?? []) {
        if (needsSnapshot(view, b)) gap = true;
        view = reduceBatch(view, b);
      }
      pending.delete(info.sessionId);
      return {
        sessions: { ...s.sessions, [info.sessionId]: view },
        order: [...s.order, info.sessionId],
      };
    });
    // Batches buffered before openSession answered skipped some (the buffer is bounded).
    if (gap) resync(info.sessionId);
  };

  let queued: SessionBatch[] = [];
  let flushScheduled = false;
  /** Sessions whose snapshot was asked for and has not arrived. */
  const resyncing = new Set<SessionId>();

  /**
   * Asks main/ for a session's snapshot; it joins the batch queue, so it applies in the order
   * main/ sent it (after the batches it includes, before the later ones).
   */
  const resync = (id: SessionId) => {
    const b = get().bridge;
    if (b === null || resyncing.has(id)) return;
    resyncing.add(id);
    b.invoke('sessionSnapshot', { sessionId: id }).then(
      (snap) => {
        resyncing.delete(id);
        get().applyBatch(snap);
      },
      () => resyncing.delete(id), // gone (removed) or the link dropped: a reconnect resyncs
    );
  };

  /** Adds the sessions main/ has that this window does not, and resyncs every one. */
  const resyncAll = async () => {
    const list = await bridge().invoke('listSessions', {});
    for (const s of list) addSession(s.info, s.state, s.error);
    for (const id of get().order) resync(id);
  };

  const applyQueued = (list: SessionBatch[]) => {
    const changed = new Map<SessionId, SessionView>();
    for (const batch of list) {
      const view = changed.get(batch.sessionId) ?? get().sessions[batch.sessionId];
      if (view === undefined) {
        let buffered = pending.get(batch.sessionId);
        if (buffered === undefined) pending.set(batch.sessionId, (buffered = []));
        if (buffered.length < MAX_PENDING_BATCHES) buffered.push(batch);
        continue;
      }
      if (batch.seq <= view.lastSeq && batch.snapshot !== true) continue;
      // Series and previews (bodies, raw streams) come as deltas: after a gap only a snapshot puts them right.
      if (needsSnapshot(view, batch)) resync(batch.sessionId);
      if (batch.snapshot === true && batch.seq < view.lastSeq) continue;
      changed.set(batch.sessionId, reduceBatch(view, batch));
    }
    if (changed.size === 0) return;
    set((s) => {
      const sessions = { ...s.sessions };
      // A tab closed meanwhile stays closed.
      for (const [id, view] of changed) if (sessions[id] !== undefined) sessions[id] = view;
      return { sessions };
    });
  };

  const bridge = (): QuicscopeBridge => {
    const b = get().bridge;
    if (b === null) throw new Error('no bridge to quicscope');
    return b;
  };

  return {
    bridge: null,
    transport: 'web',
    link: { state: 'connecting', detail: '' },
    appInfo: null,
    presets: [],
    recent: [],
    localServer: null,
    sessions: {},
    order: [],
    active: 'new',
    fatal: null,

    async attach(b, transport) {
      set({ bridge: b, transport });
      b.onBatch((batch) => get().applyBatch(batch));
      try {
        const [appInfo, presets, recent, sessions] = await Promise.all([
          b.invoke('appInfo', {}),
          b.invoke('listPresets', {}),
          b.invoke('recentTargets', {}),
          b.invoke('listSessions', {}),
        ]);
        set({ appInfo, presets, recent, fatal: null });
        for (const s of sessions) addSession(s.info, s.state, s.error);
        // Sessions already running: their state so far comes in a snapshot each.
        for (const s of sessions) resync(s.info.sessionId);
      } catch (e) {
        set({ fatal: e instanceof Error ? e.message : String(e) });
      }
    },

    setLink(state, detail) {
      const was = get().link.state;
      set({ link: { state, detail } });
      // Back after a drop: batches were lost meanwhile, and sessions may have come and gone.
      if (state === 'open' && was === 'closed' && get().appInfo !== null)
        void resyncAll().catch(() => undefined);
    },

    setActive(id) {
      set({ active: id });
    },

    async refreshRecent() {
      const recent = await bridge().invoke('recentTargets', {});
      set({ recent });
    },

    async open(options) {
      const info = await bridge().invoke('openSession', { options });
      addSession(info);
      set({ active: info.sessionId });
      void get()
        .refreshRecent()
        .catch(() => undefined);
      return info;
    },

    async startLocalServer() {
      const localServer = await bridge().invoke('startLocalServer', {});
      set({ localServer });
      return localServer;
    },

    async closeTab(id) {
      const view = get().sessions[id];
      if (view !== undefined && view.state !== 'closed' && view.state !== 'failed') {
        await bridge()
          .invoke('closeSession', { sessionId: id, code: 0, reason: 'tab closed' })
          .catch(() => undefined);
      }
      await bridge()
        .invoke('removeSession', { sessionId: id })
        .catch(() => undefined);
      set((s) => {
        const sessions = { ...s.sessions };
        delete sessions[id];
        const order = s.order.filter((x) => x !== id);
        const idx = s.order.indexOf(id);
        const active = s.active === id ? (order[Math.min(idx, order.length - 1)] ?? 'new') : s.active;
        return { sessions, order, active };
      });
    },

    applyBatch(batch) {
      // Batches are applied once per animation frame: under load several arrive between two
      // frames, and one store update (one React render) for all of them is what the eye can see.
      queued.push(batch);
      if (flushScheduled) return;
      flushScheduled = true;
      const flush = () => {
        if (!flushScheduled) return;
        flushScheduled = false;
        const list = queued;
        queued = [];
        applyQueued(list);
      };
      // (globalThis: this module is also unit-tested in Node, which has no requestAnimationFrame.)
      const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => number })
        .requestAnimationFrame;
      if (raf !== undefined) raf(flush);
      // rAF does not run in a hidden tab: apply anyway, less often.
      setTimeout(flush, raf !== undefined ? 250 : 0);
    },

    logActivity(id, level, text) {
      set((s) => {
        const view = s.sessions[id];
        if (view === undefined) return s;
        const entry: ActivityEntry = { id: ++activitySeq, at: Date.now(), level, text };
        return {
          sessions: { ...s.sessions, [id]: { ...view, activity: [...view.activity, entry].slice(-200) } },
        };
      });
    },
  };
});

/** Selects one session's view (undefined once its tab is closed). */
export function useSession(id: SessionId): SessionView | undefined {
  return useApp((s) => s.sessions[id]);
}
