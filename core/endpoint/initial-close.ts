/**
 * A CONNECTION_CLOSE in an Initial packet from a server that keeps no state for the client:
 * how it refuses a connection (CONNECTION_REFUSED, RFC 9000 §5.2.2) or rejects an invalid Retry
 * token (INVALID_TOKEN, §8.1.2: "a server has not established any state for the connection at
 * this point and so does not enter the closing period"). Initial keys come from the DCID of the
 * client's Initial (RFC 9001 §5.2), so no connection is needed.
 */
import { getProvider } from '../crypto/index.ts';
import { initialKeys } from '../crypto/initial.ts';
import { TAG_LENGTH } from '../crypto/keys.ts';
import { protectPacket } from '../crypto/packet-protection.ts';
import type { CryptoProvider } from '../crypto/provider.ts';
import { Writer } from '../wire/buffer.ts';
import { encodeFrame, frameLength } from '../wire/frames.ts';
import type { TransportCloseFrame } from '../wire/frames.ts';
import { writeLongHeader } from '../wire/packet-write.ts';

/** What the close answers and says. */
export interface InitialCloseFields {
  /** The version of the client's Initial. */
  version: number;
  /** The DCID of the client's Initial (the Initial keys derive from it). */
  clientDcid: Uint8Array;
  /** The SCID of the client's Initial: the close's DCID. */
  clientScid: Uint8Array;
  /** Our SCID for the packet (any value; e.g. random bytes of our CID length). */
  scid: Uint8Array;
  /** A transport error code (RFC 9000 §20.1), e.g. CONNECTION_REFUSED or INVALID_TOKEN. */
  errorCode: number;
  /** The reason phrase (readable by anyone: Initial keys are public). */
  reason?: string;
}

const utf8 = new TextEncoder();

/**
 * Writes a protected Initial packet holding only CONNECTION_CLOSE (frame type 0x1c) into `out`
 * and returns its length. It is not ack-eliciting, so it needs no padding (RFC 9000 §14.1), and
 * is far below 3x the client's 1200-byte datagram (§8.1).
 */
export function buildInitialClose(
  out: Uint8Array,
  f: InitialCloseFields,
  provider: CryptoProvider = getProvider('default'),
): number {
  const frame: TransportCloseFrame = {
    type: 'connection_close',
    errorSpace: 'transport',
    errorCode: f.errorCode,
    frameType: 0,
    reason: utf8.encode(f.reason ?? '').subarray(0, 64),
  };
  const payloadLength = frameLength(frame);
  const w = new Writer(out);
  const pnOffset = writeLongHeader(w, {
    type: 'initial',
    version: f.version,
    dcid: f.clientScid,
    scid: f.scid,
    pnLength: 1,
    pn: 0,
    payloadLength: payloadLength + TAG_LENGTH,
  });
  encodeFrame(w, frame);
  const keys = initialKeys(provider, f.version, f.clientDcid).server;
  return protectPacket(keys, out, 0, pnOffset, 1, payloadLength, 0);
}
