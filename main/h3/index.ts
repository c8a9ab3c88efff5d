/**
 * main/h3: a small promise-based HTTP/3 client (`fetchAll`, `H3ClientConnection`) and file server
 * (`serveFiles`) over the UDP endpoints and core/h3, shared by the CLI and the desktop app.
 */
export { H3ClientConnection, responseOk } from './client.ts';
export type { ConnectionSummary, H3ClientOptions, H3RequestOptions, H3Response } from './client.ts';
export { fetchAll, parseTarget } from './fetch.ts';
export type {
  BodySink,
  FetchAllOptions,
  FetchAllResult,
  FetchProgress,
  FetchedConnection,
  FetchedResponse,
} from './fetch.ts';
export { H3FileServer, serveFiles } from './server.ts';
export type { ConnectionLog, RequestLog, ServeFilesOptions } from './server.ts';
export { FileResolver, GeneratedBody, generatedBytes } from './files.ts';
export type { BodySource, Resolved } from './files.ts';
export { selfSignedIdentity, spkiSha256 } from './certs.ts';
export type { ServerIdentity } from './certs.ts';
export {
  certificateProblem,
  describeCloseInfo,
  describeEndpointError,
  describeFailure,
  quicErrorName,
} from './errors.ts';
export type { FailureInfo, FailureKind } from './errors.ts';
export { ConnectionQlog, FileSink, SessionTraces } from './traces.ts';
export type { TraceOptions } from './traces.ts';
