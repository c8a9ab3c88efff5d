import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameType,
  countsInFlight,
  frameAllowedIn,
  frameTypeName,
  isAckEliciting,
  isFlowControlled,
  isKnownFrameType,
  isProbing,
} from '../../../core/wire/frame-types.ts';
import type { FramePacketType } from '../../../core/wire/frame-types.ts';

const PACKET_TYPES: FramePacketType[] = ['initial', '0rtt', 'handshake', '1rtt'];

/** The packet types `type` is allowed in, as a Table 3 "Pkts" string (I, H, 0, 1). */
function pkts(type: number): string {
  return (
    (frameAllowedIn(type, 'initial') ? 'I' : '_') +
    (frameAllowedIn(type, 'handshake') ? 'H' : '_') +
    (frameAllowedIn(type, '0rtt') ? '0' : '_') +
    (frameAllowedIn(type, '1rtt') ? '1' : '_')
  );
}

describe('RFC 9000 §12.4 Table 3: packet types each frame may appear in', () => {
  it('STREAM (every type 0x08..0x0f) is not allowed in Initial or Handshake, but is in 0-RTT and 1-RTT', () => {
    for (let t = 0x08; t <= 0x0f; t++) assert.equal(pkts(t), '__01', `type 0x${t.toString(16)}`);
  });

  it('PADDING, PING and CONNECTION_CLOSE (0x1c) may appear in every packet type', () => {
    for (const t of [FrameType.PADDING, FrameType.PING, FrameType.CONNECTION_CLOSE])
      assert.equal(pkts(t), 'IH01');
  });

  it('ACK (0x02, 0x03) and CRYPTO are allowed in Initial, Handshake and 1-RTT, never in 0-RTT', () => {
    for (const t of [FrameType.ACK, FrameType.ACK_ECN, FrameType.CRYPTO]) assert.equal(pkts(t), 'IH_1');
  });

  it('CONNECTION_CLOSE 0x1d is allowed only in 0-RTT and 1-RTT (footnote "ih", §19.19)', () => {
    assert.equal(pkts(FrameType.CONNECTION_CLOSE_APP), '__01');
  });

  it('HANDSHAKE_DONE, NEW_TOKEN and PATH_RESPONSE are allowed only in 1-RTT', () => {
    for (const t of [FrameType.HANDSHAKE_DONE, FrameType.NEW_TOKEN, FrameType.PATH_RESPONSE])
      assert.equal(pkts(t), '___1');
  });

  it('the stream and flow-control frames are application-data only (0-RTT and 1-RTT)', () => {
    for (const t of [
      FrameType.RESET_STREAM,
      FrameType.STOP_SENDING,
      FrameType.MAX_DATA,
      FrameType.MAX_STREAM_DATA,
      FrameType.MAX_STREAMS_BIDI,
      FrameType.MAX_STREAMS_UNI,
      FrameType.DATA_BLOCKED,
      FrameType.STREAM_DATA_BLOCKED,
      FrameType.STREAMS_BLOCKED_BIDI,
      FrameType.STREAMS_BLOCKED_UNI,
      FrameType.NEW_CONNECTION_ID,
      FrameType.RETIRE_CONNECTION_ID,
      FrameType.PATH_CHALLENGE,
    ])
      assert.equal(pkts(t), '__01', frameTypeName(t));
  });

  it('all frames can appear in 1-RTT packets', () => {
    for (let t = 0x00; t <= 0x1e; t++) assert.ok(frameAllowedIn(t, '1rtt'), frameTypeName(t));
  });

  it('RFC 9221 §5: DATAGRAM (0x30, 0x31) is allowed in 0-RTT and 1-RTT only', () => {
    assert.equal(pkts(FrameType.DATAGRAM), '__01');
    assert.equal(pkts(FrameType.DATAGRAM_LEN), '__01');
  });

  it('unknown types are allowed nowhere', () => {
    for (const t of [0x1f, 0x20, 0x2f, 0x32, 0x3f, 0x40, 0x4000, 2 ** 40])
      for (const p of PACKET_TYPES) assert.equal(frameAllowedIn(t, p), false, `0x${t.toString(16)} in ${p}`);
  });
});

describe('RFC 9000 §12.4 Table 3: Spec flags N, C, P, F', () => {
  it('N: PADDING, ACK and CONNECTION_CLOSE are not ack-eliciting; every other frame is', () => {
    const notEliciting = new Set([0x00, 0x02, 0x03, 0x1c, 0x1d]);
    for (let t = 0x00; t <= 0x1e; t++)
      assert.equal(isAckEliciting(t), !notEliciting.has(t), frameTypeName(t) + ` 0x${t.toString(16)}`);
  });

  it('RFC 9221 §5.2: DATAGRAM is ack-eliciting; RFC 9000 §19.21: so is an unknown extension frame', () => {
    assert.ok(isAckEliciting(FrameType.DATAGRAM));
    assert.ok(isAckEliciting(FrameType.DATAGRAM_LEN));
    assert.ok(isAckEliciting(0x20));
  });

  it('C: ACK does not count in flight; CONNECTION_CLOSE neither (RFC 9002 §3); PADDING does (RFC 9002 §2)', () => {
    for (let t = 0x00; t <= 0x1e; t++) {
      const expected = !(t === 0x02 || t === 0x03 || t === 0x1c || t === 0x1d);
      assert.equal(countsInFlight(t), expected, frameTypeName(t));
    }
    assert.ok(countsInFlight(FrameType.PADDING));
    assert.ok(countsInFlight(FrameType.DATAGRAM));
  });

  it('P: PADDING, NEW_CONNECTION_ID, PATH_CHALLENGE and PATH_RESPONSE are the probing frames (§9.1)', () => {
    const probing = new Set([0x00, 0x18, 0x1a, 0x1b]);
    for (let t = 0x00; t <= 0x1e; t++) assert.equal(isProbing(t), probing.has(t), frameTypeName(t));
    assert.equal(isProbing(FrameType.DATAGRAM_LEN), false);
  });

  it('F: only STREAM is flow controlled (not CRYPTO §19.6, not DATAGRAM RFC 9221 §5.3)', () => {
    for (let t = 0x00; t <= 0x1e; t++)
      assert.equal(isFlowControlled(t), t >= 0x08 && t <= 0x0f, frameTypeName(t));
    assert.equal(isFlowControlled(FrameType.DATAGRAM), false);
  });
});

describe('frame type names', () => {
  it('names every known type after Table 3 and hex-codes the rest', () => {
    assert.equal(frameTypeName(0x0e), 'STREAM');
    assert.equal(frameTypeName(0x03), 'ACK');
    assert.equal(frameTypeName(0x1d), 'CONNECTION_CLOSE');
    assert.equal(frameTypeName(0x31), 'DATAGRAM');
    assert.equal(frameTypeName(0x1f), '0x1f');
    assert.equal(isKnownFrameType(0x1e), true);
    assert.equal(isKnownFrameType(0x1f), false);
    assert.equal(isKnownFrameType(-1), false);
  });
});
