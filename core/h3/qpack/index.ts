/** QPACK (RFC 9204): the encoder and decoder of HTTP/3 field sections, and their building blocks. */
export { QpackEncoder, defaultNeverIndex, defaultShouldIndex, fieldSectionSize } from './encoder.ts';
export type { EncodedFieldSection, QpackEncoderOptions } from './encoder.ts';
export { QpackDecoder } from './decoder.ts';
export type { DecodeResult, FieldLine, QpackDecoderOptions, UnblockedSection } from './decoder.ts';
export type { HuffmanMode } from './primitives.ts';
export { STATIC_TABLE, staticFind, staticFindName } from './static-table.ts';
