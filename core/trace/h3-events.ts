/**
 * The HTTP/3 qlog events of draft-ietf-quic-qlog-h3-events-13 that core/h3 emits (§3.1
 * parameters_set, §3.3 stream_type_set, §3.5 frame_created, §3.6 frame_parsed) and their data
 * types (§4). They join `QlogEventMap` by declaration merging, under the `http3` namespace.
 */
import type { Initiator, RawInfo } from './data-types.ts';

/** Event schema URI of the HTTP/3 events, with the draft suffix (h3-events-13 §2.1). */
export const HTTP3_EVENT_SCHEMA = 'urn:ietf:params:qlog:events:http3-13';

/** HTTP3HTTPField (§4.2.2). */
export interface HTTP3Field {
  name?: string;
  name_bytes?: string;
  value?: string;
  value_bytes?: string;
}

/** $HTTP3SettingsName (§4.2.4). */
export type HTTP3SettingsName =
  | 'settings_qpack_max_table_capacity'
  | 'settings_max_field_section_size'
  | 'settings_qpack_blocked_streams'
  | 'settings_enable_connect_protocol'
  | 'settings_h3_datagram'
  | 'reserved'
  | 'unknown';

/** HTTP3Setting (§4.2.4): `name_bytes` is the identifier when the name is reserved or unknown. */
export interface HTTP3Setting {
  name?: HTTP3SettingsName;
  name_bytes?: number;
  value: number;
}

/** HTTP3BaseFrames (§4.2.1-§4.2.9). */
export type HTTP3Frame =
  | { frame_type: 'data'; raw?: RawInfo }
  | { frame_type: 'headers'; headers: HTTP3Field[]; raw?: RawInfo }
  | { frame_type: 'cancel_push'; push_id: number; raw?: RawInfo }
  | { frame_type: 'settings'; settings: HTTP3Setting[]; raw?: RawInfo }
  | { frame_type: 'push_promise'; push_id: number; headers: HTTP3Field[]; raw?: RawInfo }
  | { frame_type: 'goaway'; id: number; raw?: RawInfo }
  | { frame_type: 'max_push_id'; push_id: number; raw?: RawInfo }
  | { frame_type: 'reserved' | 'unknown'; frame_type_bytes: number; raw?: RawInfo };

/** HTTP3ParametersSet (§3.1); reserved (GREASE) settings appear as extra fields. */
export interface HTTP3ParametersSet {
  initiator?: Initiator;
  max_field_section_size?: number;
  max_table_capacity?: number;
  blocked_streams_count?: number;
  waits_for_settings?: boolean;
  [extension: string]: unknown;
}

/** $HTTP3StreamType (§3.3). */
export type HTTP3StreamType =
  'request' | 'control' | 'push' | 'reserved' | 'unknown' | 'qpack_encode' | 'qpack_decode';

/** HTTP3StreamTypeSet (§3.3). */
export interface HTTP3StreamTypeSet {
  initiator?: Initiator;
  stream_id: number;
  stream_type: HTTP3StreamType;
  stream_type_bytes?: number;
  associated_push_id?: number;
}

/** HTTP3FrameCreated / HTTP3FrameParsed (§3.5, §3.6). */
export interface HTTP3FrameEvent {
  stream_id: number;
  frame: HTTP3Frame;
}

declare module './events.ts' {
  interface QlogEventMap {
    'http3:parameters_set': HTTP3ParametersSet;
    'http3:stream_type_set': HTTP3StreamTypeSet;
    'http3:frame_created': HTTP3FrameEvent;
    'http3:frame_parsed': HTTP3FrameEvent;
  }
}
