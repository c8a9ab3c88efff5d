/** HTTP/3 frames and field sections in their qlog form (draft-ietf-quic-qlog-h3-events-13 §4.2). */
import type { HTTP3Field, HTTP3Frame } from '../trace/h3-events.ts';
import { isReservedH3Codepoint } from './errors.ts';
import type { H3Frame } from './frames.ts';
import type { FieldLine } from './qpack/decoder.ts';
import { qlogSettings } from './settings.ts';

/** A field section as qlog HTTP3HTTPField entries (§4.2.2). */
export function qlogFields(headers: readonly FieldLine[]): HTTP3Field[] {
  return headers.map(([name, value]) => ({ name, value }));
}

/** A reserved or unknown frame type (§4.2.8, §4.2.9). */
export function qlogUnknownFrame(frameType: number, length: number): HTTP3Frame {
  return {
    frame_type: isReservedH3Codepoint(frameType) ? 'reserved' : 'unknown',
    frame_type_bytes: frameType,
    raw: { payload_length: length },
  };
}

/** A frame parsed from a control stream (§4.2); DATA, HEADERS and PUSH_PROMISE never get here. */
export function qlogControlFrame(f: H3Frame): HTTP3Frame {
  switch (f.type) {
    case 'settings':
      return { frame_type: 'settings', settings: qlogSettings(f.settings) };
    case 'goaway':
      return { frame_type: 'goaway', id: f.id };
    case 'max_push_id':
      return { frame_type: 'max_push_id', push_id: f.pushId };
    case 'cancel_push':
      return { frame_type: 'cancel_push', push_id: f.pushId };
    case 'unknown':
      return qlogUnknownFrame(f.frameType, f.length);
    case 'data':
      return { frame_type: 'data', raw: { payload_length: f.data.length } };
    case 'headers':
      return { frame_type: 'headers', headers: [], raw: { payload_length: f.fieldSection.length } };
    case 'push_promise':
      return { frame_type: 'push_promise', push_id: f.pushId, headers: [] };
  }
}
