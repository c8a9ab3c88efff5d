/** core/h3: HTTP/3 (RFC 9114) and QPACK (RFC 9204) over a QUIC connection. */
export { H3Connection } from './connection.ts';
export type { H3CloseInfo, H3ConnectionOptions, H3Event } from './connection.ts';
export { H3StreamError } from './request.ts';
export type { H3StreamErrorKind } from './request.ts';
export type { H3Transport, TransportErrorInfo } from './transport.ts';
export { H3Error, H3ErrorCode, h3ErrorName, isReservedH3Codepoint } from './errors.ts';
export type { H3ErrorCodeValue } from './errors.ts';
export { checkRequest, checkResponse, checkTrailers } from './message.ts';
export type { RequestInfo, ResponseInfo } from './message.ts';
export { DEFAULT_SETTINGS } from './settings.ts';
export type { H3Settings } from './settings.ts';
export { H3FrameParser, H3FrameType, H3SettingId, H3StreamType, reservedCodepoint } from './frames.ts';
export type { H3Frame } from './frames.ts';
export * from './qpack/index.ts';
