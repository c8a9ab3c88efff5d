import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CallbackTracer,
  MemoryTracer,
  MultiTracer,
  NullTracer,
  type Tracer,
} from '../../../core/trace/tracer.ts';
import type { AnyTraceEvent, PacketSent } from '../../../core/trace/events.ts';

function sent(pn: number): PacketSent {
  return { header: { packet_type: '1RTT', packet_number: pn }, frames: [{ frame_type: 'ping' }] };
}

describe('Tracer (qlog event sink)', () => {
  it('NullTracer is disabled and accepts events without effect', () => {
    assert.equal(NullTracer.enabled, false);
    NullTracer.event(0, 'quic:packet_sent', sent(0));
    assert.ok(Object.isFrozen(NullTracer));
  });

  it('checks event names and data shapes at compile time', () => {
    const t: Tracer = new MemoryTracer();
    t.event(1, 'quic:recovery_metrics_updated', { smoothed_rtt: 10, congestion_window: 12000 });
    // @ts-expect-error -- not an event name of QlogEventMap
    t.event(1, 'quic:no_such_event', {});
    // @ts-expect-error -- packet_sent requires a header
    t.event(1, 'quic:packet_sent', { frames: [] });
    // @ts-expect-error -- recovery_metrics_updated has no field "cwnd"
    t.event(1, 'quic:recovery_metrics_updated', { cwnd: 1 });
    assert.equal((t as MemoryTracer).size, 4); // at run time they are recorded all the same
  });

  it('MultiTracer fans out to its enabled tracers, and is disabled when none is', () => {
    const a = new MemoryTracer();
    const b = new MemoryTracer();
    const multi = new MultiTracer([a, NullTracer, b]);
    assert.equal(multi.enabled, true);
    multi.event(5, 'quic:connection_state_updated', { new: 'attempted' });
    assert.deepEqual(a.all(), [
      { time: 5, name: 'quic:connection_state_updated', data: { new: 'attempted' } },
    ]);
    assert.deepEqual(b.all(), a.all());
    assert.equal(new MultiTracer([NullTracer]).enabled, false);
    assert.equal(new MultiTracer([]).enabled, false);
  });

  it('CallbackTracer hands each event to its function', () => {
    const seen: AnyTraceEvent[] = [];
    const t = new CallbackTracer((e) => seen.push(e));
    t.event(2.5, 'quic:mtu_updated', { new: 1452, done: true });
    assert.deepEqual(seen, [{ time: 2.5, name: 'quic:mtu_updated', data: { new: 1452, done: true } }]);
  });
});

describe('MemoryTracer', () => {
  it('keeps events in order and finds them by name and predicate', () => {
    const t = new MemoryTracer();
    t.event(0, 'quic:packet_sent', sent(0));
    t.event(1, 'quic:packet_received', { header: { packet_type: '1RTT', packet_number: 0 } });
    t.event(2, 'quic:packet_sent', sent(1));
    assert.equal(t.size, 3);
    assert.deepEqual(
      t.events('quic:packet_sent').map((d) => d.header.packet_number),
      [0, 1],
    );
    assert.deepEqual(
      t.entries('quic:packet_sent').map((e) => e.time),
      [0, 2],
    );
    assert.equal(t.find('quic:packet_sent', (d) => d.header.packet_number === 1)?.header.packet_number, 1);
    assert.equal(
      t.find('quic:packet_sent', (_d, time) => time > 5),
      undefined,
    );
    assert.equal(t.find('quic:packet_lost'), undefined);
    assert.equal(t.count('quic:packet_sent'), 2);
    assert.equal(
      t.count('quic:packet_sent', (d) => d.header.packet_number === 0),
      1,
    );
    const names = t.all().map((e) => e.name);
    assert.deepEqual(names, ['quic:packet_sent', 'quic:packet_received', 'quic:packet_sent']);
  });

  it('is bounded: keeps the newest maxEvents and counts what it dropped', () => {
    const t = new MemoryTracer({ maxEvents: 10 });
    for (let pn = 0; pn < 1000; pn++) t.event(pn, 'quic:packet_sent', sent(pn));
    assert.equal(t.size, 10);
    assert.equal(t.dropped, 990);
    assert.deepEqual(
      t.events('quic:packet_sent').map((d) => d.header.packet_number),
      [990, 991, 992, 993, 994, 995, 996, 997, 998, 999],
    );
    assert.equal(t.find('quic:packet_sent')?.header.packet_number, 990);
    assert.equal(t.all().length, 10);
    t.clear();
    assert.equal(t.size, 0);
    assert.equal(t.dropped, 0);
  });

  it('a bound of one keeps the last event', () => {
    const t = new MemoryTracer({ maxEvents: 1 });
    t.event(0, 'quic:packet_sent', sent(0));
    t.event(1, 'quic:packet_sent', sent(1));
    t.event(2, 'quic:packet_sent', sent(2));
    assert.deepEqual(
      t.all().map((e) => e.time),
      [2],
    );
  });

  it('rejects a bound that is not a positive integer', () => {
    assert.throws(() => new MemoryTracer({ maxEvents: 0 }), RangeError);
    assert.throws(() => new MemoryTracer({ maxEvents: 1.5 }), RangeError);
  });

  it('narrowing on the event name narrows the data', () => {
    const t = new MemoryTracer();
    t.event(0, 'quic:key_updated', { key_type: 'client_1rtt_secret', key_phase: 1, trigger: 'local_update' });
    for (const e of t.all()) {
      if (e.name === 'quic:key_updated') assert.equal(e.data.key_phase, 1);
    }
  });
});
