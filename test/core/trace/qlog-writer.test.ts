import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  QlogJsonSeqWriter,
  parseJsonSeq,
  rfc3339,
  RECORD_SEPARATOR,
} from '../../../core/trace/qlog-writer.ts';
import { QUIC_EVENT_SCHEMA, QUICSCOPE_EVENT_SCHEMA } from '../../../core/trace/events.ts';
import { toQlogFrames } from '../../../core/trace/frames.ts';

const REF = Date.UTC(2026, 10, 26, 9, 30, 0, 250); // 2026-11-26T09:30:00.250Z

function collect(): { chunks: string[]; sink: (c: string) => void; text: () => string } {
  const chunks: string[] = [];
  return { chunks, sink: (c) => chunks.push(c), text: () => chunks.join('') };
}

function sampleSession(sink: (c: string) => void): QlogJsonSeqWriter {
  const w = new QlogJsonSeqWriter(sink, {
    title: 'test session',
    vantagePoint: 'client',
    odcid: '8394c8f03e515708',
    referenceTime: REF,
  });
  w.event(REF + 0.5, 'quic:version_information', {
    client_versions: ['00000001'],
    chosen_version: '00000001',
  });
  w.event(REF + 1.2345678, 'quic:packet_sent', {
    header: { packet_type: 'initial', packet_number: 0, dcid: '8394c8f03e515708', scid: '' },
    frames: toQlogFrames([
      { type: 'crypto', offset: 0, data: new Uint8Array(300) },
      { type: 'padding', length: 870 },
    ]),
    raw: { length: 1200 },
  });
  w.event(REF + 25, 'quic:recovery_metrics_updated', { smoothed_rtt: 24.5, latest_rtt: 24.5, min_rtt: 24.5 });
  w.event(REF + 30, 'quicscope:tls_message', {
    direction: 'received',
    encryption_level: 'initial',
    message_type: 'server_hello',
    message_type_value: 2,
    raw: { length: 90, payload_length: 86 },
  });
  return w;
}

describe('qlog main-schema-14 §5 QlogFileSeq as JSON Text Sequences (§11.2, RFC 7464)', () => {
  it('writes one record per chunk: RS, one JSON object, LF', () => {
    const out = collect();
    sampleSession(out.sink);
    assert.equal(out.chunks.length, 5);
    for (const c of out.chunks) {
      assert.equal(c[0], RECORD_SEPARATOR);
      assert.equal(c.charCodeAt(0), 0x1e);
      assert.ok(c.endsWith('\n'));
      assert.equal(c.indexOf('\n'), c.length - 1, 'one line per record');
      assert.doesNotThrow(() => JSON.parse(c.slice(1)));
    }
  });

  it('the header record has file_schema, serialization_format, title and a TraceSeq (§3, §5, §5.1)', () => {
    const out = collect();
    sampleSession(out.sink);
    const [header] = parseJsonSeq(out.text()) as Record<string, unknown>[];
    assert.deepEqual(header, {
      file_schema: 'urn:ietf:params:qlog:file:sequential',
      serialization_format: 'application/qlog+json-seq',
      title: 'test session',
      trace: {
        common_fields: {
          group_id: '8394c8f03e515708',
          time_format: 'relative_to_epoch',
          reference_time: { clock_type: 'system', epoch: '2026-11-26T09:30:00.250Z' },
        },
        vantage_point: { name: 'quicscope', type: 'client' },
        event_schemas: ['urn:ietf:params:qlog:events:quic-13', QUICSCOPE_EVENT_SCHEMA],
      },
    });
    assert.equal(QUIC_EVENT_SCHEMA, 'urn:ietf:params:qlog:events:quic-13'); // quic-events-13 §2.1
    // §3: file_schema and serialization_format SHOULD be within the first 256 bytes.
    const first256 = out.chunks[0].slice(0, 256);
    assert.ok(first256.includes('"file_schema":"urn:ietf:params:qlog:file:sequential"'));
    assert.ok(first256.includes('"serialization_format":"application/qlog+json-seq"'));
  });

  it('§11.1/§11.2: every field name is lowercase', () => {
    const out = collect();
    sampleSession(out.sink);
    const keys = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          keys.add(k);
          walk(x);
        }
      }
    };
    parseJsonSeq(out.text()).forEach(walk);
    for (const k of keys) assert.equal(k, k.toLowerCase(), `field ${k}`);
  });

  it('events are {time, name, data} with time in ms relative to the reference time (§7.1)', () => {
    const out = collect();
    sampleSession(out.sink);
    const [, ...events] = parseJsonSeq(out.text()) as {
      time: number;
      name: string;
      data: Record<string, unknown>;
    }[];
    assert.deepEqual(
      events.map((e) => [e.time, e.name]),
      [
        [0.5, 'quic:version_information'],
        [1.235, 'quic:packet_sent'], // rounded to µs
        [25, 'quic:recovery_metrics_updated'],
        [30, 'quicscope:tls_message'],
      ],
    );
    assert.deepEqual(Object.keys(events[1]), ['time', 'name', 'data']);
    assert.deepEqual(events[1].data.frames, [
      { frame_type: 'crypto', offset: 0, raw: { length: 300 } },
      { frame_type: 'padding', raw: { length: 870, payload_length: 870 } },
    ]);
    // The absolute time of an event is reference epoch + time.
    assert.equal(Date.parse('2026-11-26T09:30:00.250Z') + events[2].time, REF + 25);
  });

  it('a monotonic clock has epoch "unknown" and an optional wall_clock_time (§7.1)', () => {
    const out = collect();
    const w = new QlogJsonSeqWriter(out.sink, {
      vantagePoint: { name: 'edge-1', type: 'server' },
      referenceTime: 1000,
      clockType: 'monotonic',
      wallClockTime: REF,
      groupId: 'conn-7',
      eventSchemas: ['urn:ietf:params:qlog:events:http3-13', QUIC_EVENT_SCHEMA],
      timePrecision: 0,
    });
    w.event(1012.7, 'quic:connection_state_updated', { old: 'attempted', new: 'handshake_complete' });
    const [header, event] = parseJsonSeq(out.text()) as Record<string, Record<string, unknown>>[];
    assert.deepEqual(header.trace, {
      common_fields: {
        group_id: 'conn-7',
        time_format: 'relative_to_epoch',
        reference_time: { clock_type: 'monotonic', epoch: 'unknown', wall_clock_time: rfc3339(REF) },
      },
      vantage_point: { name: 'edge-1', type: 'server' },
      event_schemas: [QUIC_EVENT_SCHEMA, QUICSCOPE_EVENT_SCHEMA, 'urn:ietf:params:qlog:events:http3-13'],
    });
    assert.equal(header.title, 'quicscope server');
    assert.equal(event.time, 13);
  });

  it('a default title names the vantage point and ODCID', () => {
    const out = collect();
    new QlogJsonSeqWriter(out.sink, { vantagePoint: 'server', odcid: 'abcd', referenceTime: 0 });
    const [header] = parseJsonSeq(out.text()) as Record<string, unknown>[];
    assert.equal(header.title, 'quicscope server abcd');
  });

  it('rejects a reference time that is not a finite number', () => {
    assert.throws(
      () => new QlogJsonSeqWriter(() => {}, { vantagePoint: 'client', referenceTime: NaN }),
      RangeError,
    );
  });

  it('parseJsonSeq: strict by default, skips a truncated last record when lenient (RFC 7464 §2.3)', () => {
    const out = collect();
    sampleSession(out.sink);
    const cut = out.text().slice(0, -20);
    assert.throws(() => parseJsonSeq(cut), SyntaxError);
    assert.equal(parseJsonSeq(cut, true).length, 4);
  });
});
