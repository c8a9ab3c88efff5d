/**
 * A streaming qlog writer: QlogFileSeq serialized as JSON Text Sequences (draft-ietf-quic-qlog-
 * main-schema-14 §5, §11.2; RFC 7464). Each record is RS (0x1E), one JSON object, LF. The first
 * record is the header (file_schema, serialization_format, trace: TraceSeq); every event follows as
 * its own record, so a file cut short still parses up to its last complete line. Sans-IO: records go
 * to a caller-supplied sink (a file stream, a buffer, the UI).
 */
import { JsonSeqRecords, RECORD_SEPARATOR, vantagePointOf } from './_json-seq.ts';
import type { QlogEventMap, QlogEventName } from './events.ts';
import { QUIC_EVENT_SCHEMA, QUICSCOPE_EVENT_SCHEMA } from './events.ts';
import type { Tracer } from './tracer.ts';

/** main-schema-14 §5: the QlogFileSeq schema URI. */
export const QLOG_FILE_SCHEMA_SEQUENTIAL = 'urn:ietf:params:qlog:file:sequential';
/** main-schema-14 §11.2: the JSON-SEQ media type. */
export const QLOG_JSON_SEQ_MEDIA_TYPE = 'application/qlog+json-seq';
/** RFC 7464 §2.1: the record separator that starts every JSON-SEQ record. */
export { RECORD_SEPARATOR };

/** The vantage point of a trace (main-schema-14 §6). */
export interface VantagePoint {
  name?: string;
  type: 'client' | 'server' | 'network' | 'unknown';
  /** Only for type "network". */
  flow?: 'client' | 'server' | 'unknown';
}

/** Options of a QlogJsonSeqWriter. */
export interface QlogWriterOptions {
  /** The file's title (main-schema-14 §3). */
  title?: string;
  description?: string;
  /** Which endpoint logs: "client"/"server", or a full VantagePoint. */
  vantagePoint: VantagePoint['type'] | VantagePoint;
  /** The Original Destination Connection ID as hex: the default group_id (quic-events-13 §1.1). */
  odcid?: string;
  /** The group_id common field; defaults to `odcid`. */
  groupId?: string;
  /**
   * The instant event times are measured from, on the same clock as the `timeMs` given to
   * `event()`. With clockType "system" (default) that clock is epoch milliseconds, and the
   * reference time becomes the RFC 3339 `epoch` of reference_time (main-schema-14 §7.1).
   */
  referenceTime: number;
  /** "monotonic" when `timeMs` is not epoch based (then epoch is "unknown", §7.1). */
  clockType?: 'system' | 'monotonic';
  /** With a monotonic clock, the approximate epoch ms at `referenceTime` (wall_clock_time, §7.1). */
  wallClockTime?: number;
  /** Event schema URIs beyond quic-13 and quicscope (e.g. HTTP/3's). */
  eventSchemas?: readonly string[];
  /** Decimal places kept of each relative time in ms (default 3: microseconds). */
  timePrecision?: number;
}

/** An RFC 3339 date-time for epoch milliseconds, as qlog's RFC3339DateTime (§7.1). */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/**
 * Writes one trace as a .sqlog file (main-schema-14 §5): the header record at construction, then
 * one record per event, `{"time", "name", "data"}`, with time relative to the reference time
 * (time_format "relative_to_epoch", §7.1). Also a Tracer, so it can be passed straight to a Config.
 */
export class QlogJsonSeqWriter implements Tracer {
  readonly enabled = true;
  private readonly records: JsonSeqRecords;

  constructor(sink: (chunk: string) => void, options: QlogWriterOptions) {
    this.records = new JsonSeqRecords(sink, options.referenceTime, options.timePrecision);
    this.records.write(qlogHeader(options));
  }

  event<N extends QlogEventName>(timeMs: number, name: N, data: QlogEventMap[N]): void {
    this.records.write({ time: this.records.relativeTime(timeMs), name, data });
  }
}

/** The header record of a QlogFileSeq (main-schema-14 §5, §5.1): LogFile fields and a TraceSeq. */
export function qlogHeader(options: QlogWriterOptions): Record<string, unknown> {
  const vantage = vantagePointOf(options.vantagePoint);
  const clockType = options.clockType ?? 'system';
  const referenceTime: Record<string, string> =
    clockType === 'system'
      ? { clock_type: 'system', epoch: rfc3339(options.referenceTime) }
      : { clock_type: 'monotonic', epoch: 'unknown' }; // §7.1: monotonic clocks have no epoch
  if (clockType === 'monotonic' && options.wallClockTime !== undefined) {
    referenceTime.wall_clock_time = rfc3339(options.wallClockTime);
  }
  const commonFields: Record<string, unknown> = {};
  const groupId = options.groupId ?? options.odcid;
  if (groupId !== undefined) commonFields.group_id = groupId;
  commonFields.time_format = 'relative_to_epoch';
  commonFields.reference_time = referenceTime;
  const schemas = [QUIC_EVENT_SCHEMA, QUICSCOPE_EVENT_SCHEMA];
  for (const s of options.eventSchemas ?? []) if (!schemas.includes(s)) schemas.push(s);
  // §3: file_schema and serialization_format come first, within the first 256 bytes.
  const header: Record<string, unknown> = {
    file_schema: QLOG_FILE_SCHEMA_SEQUENTIAL,
    serialization_format: QLOG_JSON_SEQ_MEDIA_TYPE,
  };
  header.title = options.title ?? defaultTitle(vantage.type, options.odcid);
  if (options.description !== undefined) header.description = options.description;
  header.trace = { common_fields: commonFields, vantage_point: vantage, event_schemas: schemas };
  return header;
}

function defaultTitle(vantage: string, odcid: string | undefined): string {
  return odcid === undefined ? `quicscope ${vantage}` : `quicscope ${vantage} ${odcid}`;
}

/**
 * Splits JSON-SEQ text into its records and parses each (RFC 7464 §2.2; for tests and importers).
 * A record that is not valid JSON throws a SyntaxError, unless `lenient` (RFC 7464 §2.3: a parser
 * may skip it, e.g. the last record of a file cut short).
 */
export function parseJsonSeq(text: string, lenient = false): unknown[] {
  const out: unknown[] = [];
  for (const record of text.split(RECORD_SEPARATOR)) {
    if (record.trim() === '') continue;
    try {
      out.push(JSON.parse(record));
    } catch (e) {
      if (!lenient) throw e;
    }
  }
  return out;
}
