/**
 * Connection termination (RFC 9000 §10): immediate close (closing state, CONNECTION_CLOSE resent
 * in answer to incoming packets), draining after the peer's CONNECTION_CLOSE, the idle timeout,
 * stateless reset, and the conversion of any error raised while processing input into a close.
 */
import { qlogTransportError } from '../trace/frames.ts';
import { QuicError, TransportError } from '../wire/errors.ts';
import type { ConnectionCloseFrame } from '../wire/frame-types.ts';
import type { ConnState } from './state.ts';

const DECODER = new TextDecoder('utf-8', { fatal: false });

/** The most bytes of reason phrase we send (the frame must fit a packet). */
const MAX_REASON = 256;

function traceClosed(
  s: ConnState,
  now: number,
  initiator: 'local' | 'remote' | undefined,
  isApp: boolean,
  code: number,
  reason: string,
  trigger: 'idle_timeout' | 'application' | 'error' | 'version_mismatch' | 'stateless_reset' | 'aborted',
): void {
  if (!s.trace) return;
  s.tracer.event(now, 'quic:connection_closed', {
    initiator,
    ...(isApp ? { application_error: 'unknown' } : { connection_error: qlogTransportError(code) }),
    error_code: code,
    reason,
    trigger,
  });
}

function traceState(s: ConnState, now: number, state: 'closing' | 'draining' | 'closed'): void {
  if (s.trace) s.tracer.event(now, 'quic:connection_state_updated', { new: state });
}

/**
 * Closes the connection from our side (RFC 9000 §10.2): enters the closing state and makes a
 * CONNECTION_CLOSE due. Does nothing when already closing, draining or closed.
 */
export function closeLocally(
  s: ConnState,
  isApp: boolean,
  code: number,
  reason: string,
  frameType: number,
  now: number,
  trigger: 'application' | 'error' = isApp ? 'application' : 'error',
): void {
  if (s.isClosingOrGone) return;
  const r = reason.length > MAX_REASON ? reason.slice(0, MAX_REASON) : reason;
  s.localError = { isApp, code, reason: r };
  s.closeFrame = { isApp, code, reason: r, frameType };
  s.closeSendPending = true;
  s.phase = { kind: 'closing', until: now + s.threePto() };
  traceClosed(s, now, 'local', isApp, code, r, trigger);
  traceState(s, now, 'closing');
}

/** The peer sent CONNECTION_CLOSE (RFC 9000 §10.2.2): drain, sending nothing, for 3 x PTO. */
export function enterDraining(s: ConnState, f: ConnectionCloseFrame, now: number): void {
  const reason = DECODER.decode(f.reason);
  const isApp = f.errorSpace === 'application';
  if (s.peerError === null) s.peerError = { isApp, code: f.errorCode, reason };
  const k = s.phase.kind;
  if (k === 'draining' || k === 'closed') return;
  // RFC 9000 §10.2.2: the closing state may be left for draining (and keeps its deadline).
  const until = k === 'closing' ? s.phase.until : now + s.threePto();
  s.phase = { kind: 'draining', until };
  s.closeSendPending = false;
  traceClosed(s, now, 'remote', isApp, f.errorCode, reason, isApp ? 'application' : 'error');
  traceState(s, now, 'draining');
}

/** The connection is over: nothing more is sent or received. */
export function enterClosed(s: ConnState, now: number): void {
  if (s.phase.kind === 'closed') return;
  s.phase = { kind: 'closed' };
  s.closeSendPending = false;
  traceState(s, now, 'closed');
}

/** RFC 9000 §10.1: the idle timeout expired: close silently. */
export function onIdleTimeout(s: ConnState, now: number): void {
  s.timedOut = true;
  if (s.localError === null && s.peerError === null)
    s.localError = { isApp: false, code: TransportError.NO_ERROR, reason: 'idle timeout' };
  traceClosed(s, now, 'local', false, TransportError.NO_ERROR, 'idle timeout', 'idle_timeout');
  enterClosed(s, now);
}

/** RFC 9000 §10.3.1: a stateless reset from the peer: drain without sending anything. */
export function onStatelessReset(s: ConnState, now: number): void {
  if (s.peerError === null)
    s.peerError = {
      isApp: false,
      code: TransportError.NO_ERROR,
      reason: 'stateless reset',
      statelessReset: true,
    };
  traceClosed(s, now, 'remote', false, TransportError.NO_ERROR, 'stateless reset', 'stateless_reset');
  s.phase = { kind: 'draining', until: now + s.threePto() };
  s.closeSendPending = false;
  traceState(s, now, 'draining');
}

/**
 * Turns an error thrown while processing input into a close: a QuicError closes with its code;
 * anything else is a bug in this stack, closed as INTERNAL_ERROR (never rethrown).
 */
export function closeOnError(s: ConnState, e: unknown, now: number): void {
  if (e instanceof QuicError) {
    closeLocally(s, e.application, e.code, e.reason, e.frameType ?? 0, now, 'error');
    return;
  }
  const reason = e instanceof Error ? `internal error: ${e.message}` : 'internal error';
  if (s.trace) s.tracer.event(now, 'quic:packet_dropped', { trigger: 'internal_error', details: { reason } });
  closeLocally(s, false, TransportError.INTERNAL_ERROR, reason, 0, now, 'error');
}
