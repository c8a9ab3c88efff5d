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
    migrationsInitiated: st.migrationsInitiated,
    migrationsValidated: st.migrationsValidated,
    migrationsFailed: st.migrationsFailed,
    localAddress: { address: s.local.address, port: s.local.port },
    peerAddress: { address: s.peer.address, port: s.peer.port },
    earlyData: s.earlyData,
    retrySeen: st.retrySeen,
    version: s.vn.headerVersion ?? s.version,
    originalVersion: s.vn.originalVersion === 0 ? s.version : s.vn.originalVersion,
    versionNegotiationSeen: s.vn.vnVersions !== null,
    versionNegotiationIgnored: s.vn.vnIgnored,
    compatibleVersionSwitch: s.vn.compatibleFrom !== null,
    congestionControl: r.cc.name,
    pmtu: s.maxDatagramSize,
    pmtudState: s.pmtud.state,
    pmtuProbesSent: s.pmtud.probesSent,
    pmtuProbesLost: s.pmtud.probesLost,
    pmtuBlackHoles: s.pmtud.blackHoles,
    datagramsSent: s.dgram?.sent ?? 0,
    datagramsReceived: s.dgram?.received ?? 0,
    datagramsDropped: s.dgram?.dropped ?? 0,
    ackEcnReceived: s.ackEcnReceived,
  };
}
