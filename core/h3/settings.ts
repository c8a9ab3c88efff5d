/**
 * HTTP/3 SETTINGS (RFC 9114 §7.2.4, RFC 9204 §5): the settings we send (with a reserved GREASE
 * setting, §7.2.4.1), what the peer's mean, and their qlog form (h3-events-13 §3.1, §4.2.4).
 */
import type { HTTP3ParametersSet, HTTP3Setting, HTTP3SettingsName } from '../trace/h3-events.ts';
import type { Initiator } from '../trace/data-types.ts';
import { isReservedH3Codepoint } from './errors.ts';
import { H3SettingId, reservedCodepoint } from './frames.ts';

/** The settings of one side, defaults filled in (RFC 9114 §7.2.4.1, RFC 9204 §5). */
export interface H3Settings {
  /** SETTINGS_MAX_FIELD_SECTION_SIZE; Infinity when unlimited (the default). */
  maxFieldSectionSize: number;
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY (default 0). */
  qpackMaxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS (default 0). */
  qpackBlockedStreams: number;
}

/** The defaults a side assumes until the peer's SETTINGS arrive (RFC 9114 §7.2.4.2). */
export const DEFAULT_SETTINGS: Readonly<H3Settings> = Object.freeze({
  maxFieldSectionSize: Infinity,
  qpackMaxTableCapacity: 0,
  qpackBlockedStreams: 0,
});

/** SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220) and SETTINGS_H3_DATAGRAM (RFC 9297), for qlog names. */
const ENABLE_CONNECT_PROTOCOL = 0x08;
const H3_DATAGRAM = 0x33;

/**
 * The identifier/value pairs of our SETTINGS frame: the non-default settings, then, when `grease`
 * is a number N, the reserved setting 0x1f * N + 0x21 with value N (RFC 9114 §7.2.4.1: "SHOULD
 * include at least one such setting").
 */
export function settingsToSend(s: H3Settings, grease: number | null): [number, number][] {
  const out: [number, number][] = [];
  if (s.qpackMaxTableCapacity > 0) out.push([H3SettingId.QPACK_MAX_TABLE_CAPACITY, s.qpackMaxTableCapacity]);
  if (Number.isFinite(s.maxFieldSectionSize))
    out.push([H3SettingId.MAX_FIELD_SECTION_SIZE, s.maxFieldSectionSize]);
  if (s.qpackBlockedStreams > 0) out.push([H3SettingId.QPACK_BLOCKED_STREAMS, s.qpackBlockedStreams]);
  if (grease !== null) out.push([reservedCodepoint(grease), grease]);
  return out;
}

/** What a peer's SETTINGS mean; unknown and reserved identifiers are ignored (RFC 9114 §7.2.4). */
export function peerSettings(settings: ReadonlyMap<number, number>): H3Settings {
  return {
    maxFieldSectionSize: settings.get(H3SettingId.MAX_FIELD_SECTION_SIZE) ?? Infinity,
    qpackMaxTableCapacity: settings.get(H3SettingId.QPACK_MAX_TABLE_CAPACITY) ?? 0,
    qpackBlockedStreams: settings.get(H3SettingId.QPACK_BLOCKED_STREAMS) ?? 0,
  };
}

function settingName(id: number): HTTP3SettingsName {
  switch (id) {
    case H3SettingId.QPACK_MAX_TABLE_CAPACITY:
      return 'settings_qpack_max_table_capacity';
    case H3SettingId.MAX_FIELD_SECTION_SIZE:
      return 'settings_max_field_section_size';
    case H3SettingId.QPACK_BLOCKED_STREAMS:
      return 'settings_qpack_blocked_streams';
    case ENABLE_CONNECT_PROTOCOL:
      return 'settings_enable_connect_protocol';
    case H3_DATAGRAM:
      return 'settings_h3_datagram';
    default:
      return isReservedH3Codepoint(id) ? 'reserved' : 'unknown';
  }
}

/** The settings of a SETTINGS frame as qlog HTTP3Setting entries (h3-events-13 §4.2.4). */
export function qlogSettings(settings: Iterable<readonly [number, number]>): HTTP3Setting[] {
  const out: HTTP3Setting[] = [];
  for (const [id, value] of settings) {
    const name = settingName(id);
    out.push(name === 'reserved' || name === 'unknown' ? { name, name_bytes: id, value } : { name, value });
  }
  return out;
}

/** A qlog parameters_set (h3-events-13 §3.1) for SETTINGS sent (`local`) or received (`remote`). */
export function qlogParametersSet(
  settings: Iterable<readonly [number, number]>,
  initiator: Initiator,
): HTTP3ParametersSet {
  const p: HTTP3ParametersSet = { initiator };
  for (const [id, value] of settings) {
    if (id === H3SettingId.MAX_FIELD_SECTION_SIZE) p.max_field_section_size = value;
    else if (id === H3SettingId.QPACK_MAX_TABLE_CAPACITY) p.max_table_capacity = value;
    else if (id === H3SettingId.QPACK_BLOCKED_STREAMS) p.blocked_streams_count = value;
    else if (id === ENABLE_CONNECT_PROTOCOL) p.extended_connect = value;
    else if (id === H3_DATAGRAM) p.h3_datagram = value;
    else p[`setting_0x${id.toString(16)}`] = value; // §3.1: unspecified fields for other settings
  }
  return p;
}
