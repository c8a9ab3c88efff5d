import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QvisWriter, toQvisEvent, toQvisFrame } from '../../../core/trace/qvis-writer.ts';
import { parseJsonSeq } from '../../../core/trace/qlog-writer.ts';
import { toQlogFrame } from '../../../core/trace/frames.ts';
import type { QlogEventMap, QlogEventName } from '../../../core/trace/events.ts';

const enc = new TextEncoder();

describe('qlog 0.3 JSON-SEQ for qvis (main-schema-02 / quic-events-01 shapes)', () => {
  it('header: qlog_version 0.3, qlog_format JSON-SEQ, trace with ODCID and a numeric reference_time', () => {
    const chunks: string[] = [];
    const w = new QvisWriter((c) => chunks.push(c), {
      vantagePoint: 'server',
      odcid: '8394c8f03e515708',
      referenceTime: 1_700_000_000_000,
    });
    w.event(1_700_000_000_012.5, 'quic:packet_received', {
      header: { packet_type: 'initial', packet_number: 0 },
      frames: [toQlogFrame({ type: 'crypto', offset: 0, data: new Uint8Array(280) })],
      raw: { length: 1200 },
    });
    for (const c of chunks) {
      assert.equal(c.charCodeAt(0), 0x1e);
      assert.ok(c.endsWith('\n'));
    }
    const [header, event] = parseJsonSeq(chunks.join('')) as Record<string, unknown>[];
    assert.deepEqual(header, {
      qlog_version: '0.3',
      qlog_format: 'JSON-SEQ',
      title: 'quicscope server 8394c8f03e515708',
      trace: {
        vantage_point: { name: 'quicscope', type: 'server' },
        common_fields: {
          ODCID: '8394c8f03e515708',
          group_id: '8394c8f03e515708',
          protocol_type: ['QUIC'],
          reference_time: 1_700_000_000_000,
          time_format: 'relative',
        },
      },
    });
    assert.deepEqual(event, {
      time: 12.5,
      name: 'transport:packet_received',
      data: {
        header: { packet_type: 'initial', packet_number: 0 },
        frames: [{ frame_type: 'crypto', offset: 0, length: 280 }],
        raw: { length: 1200 },
      },
    });
  });

  it('maps every event name to a category:name (0.3 names where they differ)', () => {
    const samples: { [N in QlogEventName]: [string, QlogEventMap[N]] } = {
      'quic:server_listening': ['connectivity:server_listening', { ip_v4: '0.0.0.0', port_v4: 443 }],
      'quic:connection_started': ['connectivity:connection_started', { local: {}, remote: {} }],
      'quic:connection_closed': ['connectivity:connection_closed', { trigger: 'idle_timeout' }],
      'quic:connection_id_updated': ['connectivity:connection_id_updated', { initiator: 'local' }],
      'quic:spin_bit_updated': ['connectivity:spin_bit_updated', { state: true }],
      'quic:connection_state_updated': ['connectivity:connection_state_updated', { new: 'closed' }],
      'quic:tuple_assigned': ['connectivity:tuple_assigned', { tuple_id: '' }],
      'quic:mtu_updated': ['connectivity:mtu_updated', { new: 1400 }],
      'quic:version_information': ['transport:version_information', { chosen_version: '00000001' }],
      'quic:alpn_information': ['transport:alpn_information', {}],
      'quic:parameters_set': ['transport:parameters_set', { max_idle_timeout: 30000 }],
      'quic:parameters_restored': ['transport:parameters_restored', { initial_max_data: 1 }],
      'quic:packet_sent': ['transport:packet_sent', { header: { packet_type: '1RTT' } }],
      'quic:packet_received': ['transport:packet_received', { header: { packet_type: '1RTT' } }],
      'quic:packet_dropped': ['transport:packet_dropped', { trigger: 'duplicate' }],
      'quic:packet_buffered': ['transport:packet_buffered', { trigger: 'keys_unavailable' }],
      'quic:packets_acked': ['transport:packets_acked', { packet_numbers: [1] }],
      'quic:udp_datagrams_sent': ['transport:datagrams_sent', { count: 1 }],
      'quic:udp_datagrams_received': ['transport:datagrams_received', { count: 1 }],
      'quic:udp_datagram_dropped': ['transport:datagram_dropped', {}],
      'quic:stream_state_updated': [
        'transport:stream_state_updated',
        { stream_id: 0, new: 'open', stream_side: 'sending' },
      ],
      'quic:frames_created': ['transport:frames_created', { frames: [] }],
      'quic:frames_parsed': ['transport:frames_processed', { frames: [] }],
      'quic:frames_processed': ['transport:frames_processed', { frames: [] }],
      'quic:stream_data_moved': ['transport:data_moved', { stream_id: 0 }],
      'quic:datagram_data_moved': ['transport:data_moved', {}],
      'quic:connection_data_blocked_updated': [
        'transport:connection_data_blocked_updated',
        { new: 'blocked' },
      ],
      'quic:stream_data_blocked_updated': [
        'transport:stream_data_blocked_updated',
        { new: 'blocked', stream_id: 0 },
      ],
      'quic:datagram_data_blocked_updated': ['transport:datagram_data_blocked_updated', { new: 'unblocked' }],
      'quic:migration_state_updated': ['connectivity:migration_state_updated', { new: 'probing_started' }],
      'quic:timer_updated': ['recovery:loss_timer_updated', { timer_type: 'ack', event_type: 'cancelled' }],
      'quic:key_updated': ['security:key_updated', { key_type: 'client_1rtt_secret' }],
      'quic:key_discarded': ['security:key_discarded', { key_type: 'client_initial_secret' }],
      'quic:recovery_parameters_set': ['recovery:parameters_set', { timer_granularity: 1 }],
      'quic:recovery_metrics_updated': ['recovery:metrics_updated', { pto_count: 1 }],
      'quic:congestion_state_updated': ['recovery:congestion_state_updated', { new: 'slow_start' }],
      'quic:packet_lost': ['recovery:packet_lost', { trigger: 'time_threshold' }],
      'quic:marked_for_retransmit': ['recovery:marked_for_retransmit', { frames: [{ frame_type: 'ping' }] }],
      'quic:ecn_state_updated': ['recovery:ecn_state_updated', { new: 'capable' }],
      // HTTP/3 events (core/trace/h3-events.ts): the 0.3 "http" category.
      'http3:parameters_set': ['http:parameters_set', { initiator: 'local', max_table_capacity: 4096 }],
      'http3:stream_type_set': ['http:stream_type_set', { stream_id: 2, stream_type: 'control' }],
      'http3:frame_created': ['http:frame_created', { stream_id: 0, frame: { frame_type: 'data' } }],
      'http3:frame_parsed': ['http:frame_parsed', { stream_id: 0, frame: { frame_type: 'goaway', id: 4 } }],
      'quicscope:tls_message': [
        'quicscope:tls_message',
        {
          direction: 'sent',
          encryption_level: 'handshake',
          message_type: 'finished',
          message_type_value: 20,
          raw: { length: 36, payload_length: 32 },
        },
      ],
    };
    for (const [name, [name03, data]] of Object.entries(samples)) {
      const [got, data03] = toQvisEvent(name as QlogEventName, data);
      assert.equal(got, name03, name);
      assert.ok(/^[a-z]+:[a-z_]+$/.test(got));
      assert.doesNotThrow(() => JSON.stringify(data03));
    }
  });

  it('recovery:metrics_updated keeps the 0.3 field names', () => {
    const data = {
      min_rtt: 2,
      smoothed_rtt: 2.5,
      latest_rtt: 3,
      rtt_variance: 1,
      pto_count: 0,
      congestion_window: 14720,
      bytes_in_flight: 1200,
    };
    assert.deepEqual(toQvisEvent('quic:recovery_metrics_updated', data), ['recovery:metrics_updated', data]);
  });

  it('initiator becomes owner (parameters_set, connection_id_updated)', () => {
    assert.deepEqual(toQvisEvent('quic:parameters_set', { initiator: 'remote', initial_max_data: 1000 }), [
      'transport:parameters_set',
      { owner: 'remote', initial_max_data: 1000 },
    ]);
    assert.deepEqual(toQvisEvent('quic:connection_id_updated', { initiator: 'local', new: 'ab' }), [
      'connectivity:connection_id_updated',
      { owner: 'local', new: 'ab' },
    ]);
  });

  it('connection_started: local/remote become src/dst ip, port and cid', () => {
    const [, data] = toQvisEvent('quic:connection_started', {
      local: { ip_v6: '::1', port_v6: 50000, connection_ids: ['aa'] },
      remote: { ip_v6: '::1', port_v6: 443, connection_ids: ['bb'] },
    });
    assert.deepEqual(data, {
      ip_version: 'ipv6',
      protocol: 'QUIC',
      src_ip: '::1',
      dst_ip: '::1',
      src_port: 50000,
      dst_port: 443,
      src_cid: 'aa',
      dst_cid: 'bb',
    });
  });

  it('connection_closed: error names become connection_code / application_code', () => {
    assert.deepEqual(
      toQvisEvent('quic:connection_closed', {
        initiator: 'remote',
        connection_error: 'protocol_violation',
        error_code: 10,
        reason: 'bad frame',
        trigger: 'error',
      })[1],
      { owner: 'remote', connection_code: 'protocol_violation', reason: 'bad frame', trigger: 'error' },
    );
    assert.deepEqual(
      toQvisEvent('quic:connection_closed', {
        application_error: 'unknown',
        error_code: 0x100,
        trigger: 'aborted',
      })[1],
      { application_code: 0x100, trigger: 'error' },
    );
  });

  it('alpn_information: ALPN identifiers become strings', () => {
    assert.deepEqual(
      toQvisEvent('quic:alpn_information', {
        client_alpns: [{ byte_value: '6833', string_value: 'h3' }, { byte_value: 'ff' }],
        chosen_alpn: { byte_value: '6833', string_value: 'h3' },
      })[1],
      { client_alpns: ['h3', 'ff'], chosen_alpn: 'h3' },
    );
  });

  it('key events: key_phase becomes generation', () => {
    assert.deepEqual(
      toQvisEvent('quic:key_updated', {
        key_type: 'server_1rtt_secret',
        key_phase: 2,
        trigger: 'remote_update',
      }),
      ['security:key_updated', { key_type: 'server_1rtt_secret', generation: 2, trigger: 'remote_update' }],
    );
  });

  it('timer_updated: ack/pto timers become recovery:loss_timer_updated, others keep their name', () => {
    assert.deepEqual(toQvisEvent('quic:timer_updated', { timer_type: 'pto', event_type: 'set', delta: 30 }), [
      'recovery:loss_timer_updated',
      { timer_type: 'pto', event_type: 'set', delta: 30 },
    ]);
    assert.deepEqual(
      toQvisEvent('quic:timer_updated', { timer_type: 'loss_timeout', event_type: 'expired' }),
      ['recovery:loss_timer_updated', { event_type: 'expired' }],
    );
    assert.equal(
      toQvisEvent('quic:timer_updated', { timer_type: 'idle_timeout', event_type: 'set' })[0],
      'transport:timer_updated',
    );
  });

  it('stream_data_moved: raw.length becomes length', () => {
    assert.deepEqual(
      toQvisEvent('quic:stream_data_moved', {
        stream_id: 0,
        offset: 0,
        from: 'transport',
        to: 'application',
        raw: { length: 10 },
      }),
      ['transport:data_moved', { stream_id: 0, offset: 0, from: 'transport', to: 'application', length: 10 }],
    );
  });

  it('packet events: a header token becomes {type, length, data}', () => {
    const [, data] = toQvisEvent('quic:packet_sent', {
      header: {
        packet_type: 'initial',
        packet_number: 1,
        token: { type: 'retry', raw: { length: 3, data: 'abcdef' } },
      },
    });
    assert.deepEqual(data, {
      header: {
        packet_type: 'initial',
        packet_number: 1,
        token: { type: 'retry', length: 3, data: 'abcdef' },
      },
    });
  });
});

describe('qlog 0.3 frame shapes', () => {
  it('STREAM, CRYPTO and DATAGRAM carry length (as ngtcp2 writes them)', () => {
    assert.deepEqual(
      toQvisFrame(
        toQlogFrame({ type: 'stream', streamId: 3, offset: 7, data: enc.encode('abc'), fin: true }),
      ),
      { frame_type: 'stream', stream_id: 3, offset: 7, fin: true, length: 3 },
    );
    assert.deepEqual(toQvisFrame(toQlogFrame({ type: 'datagram', data: new Uint8Array(9) })), {
      frame_type: 'datagram',
      length: 9,
    });
    assert.deepEqual(
      toQvisFrame(toQlogFrame({ type: 'crypto', offset: 0, data: Uint8Array.of(1) }, { raw: true })),
      { frame_type: 'crypto', offset: 0, length: 1, raw: { length: 1, data: '01' } },
    );
  });

  it('PADDING carries length and payload_length', () => {
    assert.deepEqual(toQvisFrame(toQlogFrame({ type: 'padding', length: 5 })), {
      frame_type: 'padding',
      length: 5,
      payload_length: 5,
    });
  });

  it('CONNECTION_CLOSE: error_code is the name (or number), raw_error_code the number', () => {
    assert.deepEqual(
      toQvisFrame(
        toQlogFrame({
          type: 'connection_close',
          errorSpace: 'transport',
          errorCode: 0x0a,
          frameType: 0x1e,
          reason: enc.encode('x'),
        }),
      ),
      {
        frame_type: 'connection_close',
        error_space: 'transport',
        error_code: 'protocol_violation',
        raw_error_code: 10,
        trigger_frame_type: 'handshake_done',
        reason: 'x',
      },
    );
    assert.deepEqual(
      toQvisFrame(
        toQlogFrame({
          type: 'connection_close',
          errorSpace: 'application',
          errorCode: 0x101,
          reason: new Uint8Array(0),
        }),
      ),
      {
        frame_type: 'connection_close',
        error_space: 'application',
        error_code: 0x101,
        raw_error_code: 0x101,
      },
    );
  });

  it('RESET_STREAM / STOP_SENDING: error_code', () => {
    assert.deepEqual(toQvisFrame(toQlogFrame({ type: 'stop_sending', streamId: 0, errorCode: 0x10c })), {
      frame_type: 'stop_sending',
      stream_id: 0,
      error_code: 0x10c,
      raw_error_code: 0x10c,
    });
  });

  it('NEW_TOKEN: the token as {type, length}', () => {
    assert.deepEqual(toQvisFrame(toQlogFrame({ type: 'new_token', token: new Uint8Array(33) })), {
      frame_type: 'new_token',
      length: 33,
      token: { type: 'resumption', length: 33 },
    });
  });

  it('unknown frames: raw_frame_type', () => {
    assert.deepEqual(toQvisFrame({ frame_type: 'unknown', frame_type_bytes: 0x40, raw: { length: 4 } }), {
      frame_type: 'unknown',
      raw_frame_type: 0x40,
      raw_length: 4,
    });
  });

  it('frames whose shape did not change pass through (ACK, MAX_STREAMS, NEW_CONNECTION_ID...)', () => {
    const ack = toQlogFrame({
      type: 'ack',
      largestAcknowledged: 3,
      ackDelay: 125,
      ranges: [{ smallest: 0, largest: 3 }],
    });
    assert.deepEqual(toQvisFrame(ack), { frame_type: 'ack', ack_delay: 1, acked_ranges: [[0, 3]] });
    const ms = toQlogFrame({ type: 'max_streams', streamType: 'bidirectional', maximum: 100 });
    assert.deepEqual(toQvisFrame(ms), ms);
  });
});
