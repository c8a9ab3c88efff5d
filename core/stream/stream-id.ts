/**
 * Stream identifiers (RFC 9000 §2.1): bit 0x01 is the initiator (0 = client, 1 = server), bit 0x02
 * the direction (0 = bidirectional, 1 = unidirectional); the rest is the stream's index within its
 * type. IDs are JS numbers; arithmetic (not bit operators) keeps them exact up to 2^53 - 1.
 */
import type { StreamType } from '../wire/frame-types.ts';
import type { Role } from '../wire/transport-params.ts';

export type { Role, StreamType };

/** The two low bits of a stream ID: 0 client bidi, 1 server bidi, 2 client uni, 3 server uni (Table 1). */
export type StreamKind = 0 | 1 | 2 | 3;

/** The two low bits of `id` (RFC 9000 §2.1 Table 1). */
export function streamKind(id: number): StreamKind {
  return (id % 4) as StreamKind;
}

/** Whether the client opened `id` (even IDs, RFC 9000 §2.1). */
export function isClientInitiated(id: number): boolean {
  return id % 2 === 0;
}

/** Whether the server opened `id` (odd IDs, RFC 9000 §2.1). */
export function isServerInitiated(id: number): boolean {
  return id % 2 === 1;
}

/** Whether `id` is bidirectional (bit 0x02 clear, RFC 9000 §2.1). */
export function isBidirectional(id: number): boolean {
  return id % 4 < 2;
}

/** Whether `id` is unidirectional (bit 0x02 set, RFC 9000 §2.1). */
export function isUnidirectional(id: number): boolean {
  return id % 4 >= 2;
}

/** The endpoint that opened `id`. */
export function initiatorOf(id: number): Role {
  return id % 2 === 0 ? 'client' : 'server';
}

/** Whether `role` (this endpoint) opened `id`. */
export function isLocallyInitiated(id: number, role: Role): boolean {
  return (id % 2 === 0) === (role === 'client');
}

/** 'bidirectional' or 'unidirectional', as qlog's StreamType. */
export function streamTypeOf(id: number): StreamType {
  return id % 4 < 2 ? 'bidirectional' : 'unidirectional';
}

/** The stream's position among the streams of its type: 0 for IDs 0..3, 1 for 4..7, ... */
export function streamIndex(id: number): number {
  return Math.floor(id / 4);
}

/** The kind bits for streams that `initiator` opens of `type`. */
export function kindOf(initiator: Role, type: StreamType): StreamKind {
  return ((initiator === 'server' ? 1 : 0) + (type === 'unidirectional' ? 2 : 0)) as StreamKind;
}

/** The ID of the `index`-th stream (from 0) that `initiator` opens of `type`. */
export function streamIdOf(initiator: Role, type: StreamType, index: number): number {
  return index * 4 + kindOf(initiator, type);
}

/** The first stream ID of a kind: 0, 1, 2 or 3 (RFC 9000 §2.1). */
export function firstStreamId(initiator: Role, type: StreamType): number {
  return kindOf(initiator, type);
}

/** The next ID of the same kind: `id + 4` (successive streams of a type increase by 4, §2.1). */
export function nextStreamId(id: number): number {
  return id + 4;
}

/** Whether `role` sends on `id`: any bidirectional stream, or a unidirectional one it opened (§2.1, §3). */
export function canSend(id: number, role: Role): boolean {
  return isBidirectional(id) || isLocallyInitiated(id, role);
}

/** Whether `role` receives on `id`: any bidirectional stream, or a unidirectional one its peer opened. */
export function canReceive(id: number, role: Role): boolean {
  return isBidirectional(id) || !isLocallyInitiated(id, role);
}
