/**
 * The Tracer interface every core layer reports through, and the in-process tracers: NullTracer
 * (off), MultiTracer (fan-out), MemoryTracer (bounded record for tests and the UI) and
 * CallbackTracer (hands events to a function). Writers to files live in qlog-writer.ts and
 * qvis-writer.ts; they implement the same interface.
 */
import type { AnyTraceEvent, QlogEventMap, QlogEventName, TraceEvent } from './events.ts';

/**
 * Where events go. Name and data are checked against `QlogEventMap` at compile time. Callers on
 * per-packet paths test `enabled` first so that nothing is built when tracing is off:
 *
 *   if (tracer.enabled) tracer.event(now, 'quic:packet_sent', { header, frames: toQlogFrames(fs) });
 *
 * `timeMs` is the caller's `now` (ms, float); the data object is handed over, not copied: do not
 * mutate it afterwards.
 */
export interface Tracer {
  readonly enabled: boolean;
  event<N extends QlogEventName>(timeMs: number, name: N, data: QlogEventMap[N]): void;
}

/** The tracer that records nothing (`enabled` is false). */
export const NullTracer: Tracer = Object.freeze({
  enabled: false,
  event(): void {},
});

/** Sends each event to several tracers (those enabled at construction). */
export class MultiTracer implements Tracer {
  readonly enabled: boolean;
  private readonly sinks: readonly Tracer[];

  constructor(tracers: readonly Tracer[]) {
    this.sinks = tracers.filter((t) => t.enabled);
    this.enabled = this.sinks.length > 0;
  }

  event<N extends QlogEventName>(timeMs: number, name: N, data: QlogEventMap[N]): void {
    for (const sink of this.sinks) sink.event(timeMs, name, data);
  }
}

/** Hands every event to a function (e.g. main/'s batcher for the UI). */
export class CallbackTracer implements Tracer {
  readonly enabled = true;
  constructor(private readonly callback: (event: AnyTraceEvent) => void) {}

  event<N extends QlogEventName>(timeMs: number, name: N, data: QlogEventMap[N]): void {
    this.callback({ time: timeMs, name, data } as AnyTraceEvent);
  }
}

/** Options of a MemoryTracer. */
export interface MemoryTracerOptions {
  /** Most events kept; when full the oldest are dropped (default 100 000). */
  maxEvents?: number;
}

/**
 * Keeps the last `maxEvents` events in memory. Tests use it to check what happened on the wire:
 *
 *   const acks = tracer.find('quic:packet_received', (d) => d.frames?.some((f) => f.frame_type === 'ack'));
 */
export class MemoryTracer implements Tracer {
  readonly enabled = true;
  readonly maxEvents: number;
  /** How many events were dropped because the bound was reached. */
  dropped = 0;
  private buffer: AnyTraceEvent[] = [];
  private head = 0; // index of the oldest kept event in `buffer`

  constructor(options: MemoryTracerOptions = {}) {
    const max = options.maxEvents ?? 100_000;
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`maxEvents must be a positive integer: ${max}`);
    this.maxEvents = max;
  }

  event<N extends QlogEventName>(timeMs: number, name: N, data: QlogEventMap[N]): void {
    this.buffer.push({ time: timeMs, name, data } as AnyTraceEvent);
    if (this.buffer.length - this.head > this.maxEvents) {
      this.head++;
      this.dropped++;
      // Compact once the dead prefix is as large as the live part: amortized O(1) per event.
      if (this.head >= this.maxEvents) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Number of events kept. */
  get size(): number {
    return this.buffer.length - this.head;
  }

  /** All kept events, oldest first (a copy). */
  all(): AnyTraceEvent[] {
    return this.buffer.slice(this.head);
  }

  /** The kept events called `name`, oldest first, with their times. */
  entries<N extends QlogEventName>(name: N): TraceEvent<N>[] {
    const out: TraceEvent<N>[] = [];
    for (let i = this.head; i < this.buffer.length; i++) {
      const e = this.buffer[i];
      if (e.name === name) out.push(e as TraceEvent<N>);
    }
    return out;
  }

  /** The data of the kept events called `name`, oldest first. */
  events<N extends QlogEventName>(name: N): QlogEventMap[N][] {
    return this.entries(name).map((e) => e.data);
  }

  /** The data of the first kept event called `name` that satisfies `predicate`. */
  find<N extends QlogEventName>(
    name: N,
    predicate: (data: QlogEventMap[N], time: number) => boolean = () => true,
  ): QlogEventMap[N] | undefined {
    for (let i = this.head; i < this.buffer.length; i++) {
      const e = this.buffer[i];
      if (e.name === name && predicate(e.data as QlogEventMap[N], e.time)) return e.data as QlogEventMap[N];
    }
    return undefined;
  }

  /** How many kept events are called `name` (and satisfy `predicate`, if given). */
  count<N extends QlogEventName>(
    name: N,
    predicate?: (data: QlogEventMap[N], time: number) => boolean,
  ): number {
    let n = 0;
    for (let i = this.head; i < this.buffer.length; i++) {
      const e = this.buffer[i];
      if (e.name === name && (predicate === undefined || predicate(e.data as QlogEventMap[N], e.time))) n++;
    }
    return n;
  }

  /** Forgets every kept event (the `dropped` count too). */
  clear(): void {
    this.buffer = [];
    this.head = 0;
    this.dropped = 0;
  }
}
