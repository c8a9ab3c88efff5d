/**
 * The `stats()` snapshot (for the diagnostic UI): packet and byte counters, recovery figures from
 * core/recovery, handshake duration, stream counts, key phase, paths, 0-RTT and Retry.
 */
import type { ConnState } from './state.ts';
import type { ConnectionStats } from './types.ts';

/** A fresh statistics snapshot of `s`. */
export function buildStats(s: ConnState): ConnectionStats {
  const r = s.recovery;
  const rtt = r.rtt;
  const st = s.stats;
  return {
    packetsSent: st.packetsSent,
    packetsReceived: st.packetsReceived,
    packetsLost: st.packetsLost,
    packetsDropped: st.packetsDropped,
    bytesSent: st.bytesSent,
    bytesReceived: st.bytesReceived,
    bytesLost: st.bytesLost,
    streamBytesRetransmitted: st.streamBytesRetransmitted,
    probesSent: st.probesSent,
    cwnd: r.cwnd,
    bytesInFlight: r.bytesInFlight,
    ssthresh: Number.isFinite(r.cc.ssthresh) ? r.cc.ssthresh : null,
    minRtt: rtt.minRtt,
    smoothedRtt: rtt.smoothedRtt,
    latestRtt: rtt.latestRtt,
    rttVariance: rtt.rttVar,
    ptoCount: r.ptoCount,
    handshakeDuration: s.handshakeCompleteAt === null ? null : s.handshakeCompleteAt - s.startTime,
    streamsOpenedLocal: s.streams.stats.openedLocal,
    streamsOpenedRemote: s.streams.stats.openedPeer,
    keyPhase: s.oneRtt?.phase ?? 0,
    keyUpdates: s.oneRtt?.generation ?? 0,
    pathChanges: st.pathChanges,
    earlyData: s.earlyData,
    retrySeen: st.retrySeen,
    version: s.version,
    congestionControl: r.cc.name,
  };
}
