/** core/trace: the qlog event vocabulary, the Tracer interface and the trace writers. */
export * from './events.ts';
export * from './h3-events.ts';
export * from './format.ts';
export * from './frames.ts';
export * from './header.ts';
export * from './tracer.ts';
export * from './qlog-writer.ts';
export * from './qvis-writer.ts';
export * from './keylog.ts';
export * from './ip.ts';
export * from './pcapng.ts';
