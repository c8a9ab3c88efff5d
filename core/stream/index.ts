/**
 * core/stream: stream IDs, the sending and receiving parts of streams with their state machines
 * (RFC 9000 §2-§3), flow control (§4) and the StreamMap a Connection drives.
 */
export * from './stream-id.ts';
export * from './state.ts';
export * from './range-set.ts';
export * from './flow-control.ts';
export * from './send-stream.ts';
export * from './recv-buffer.ts';
export * from './recv-stream.ts';
export * from './stream-limits.ts';
export * from './stream.ts';
export * from './stream-map-types.ts';
export { StreamMap } from './stream-map.ts';
