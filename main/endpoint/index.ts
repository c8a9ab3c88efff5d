/**
 * The UDP endpoints (Node only): a QUIC server and a QUIC client that drive core Connections over
 * node:dgram, with typed errors, events for the layers above and per-datagram trace hooks.
 */
export { QuicServerEndpoint } from './server.ts';
export type { PreferredAddresses, ServerEndpointOptions } from './server.ts';
export { QuicClientEndpoint } from './client.ts';
export type { ClientConnectOptions, ClientEndpointOptions } from './client.ts';
export { QuicConnectionHandle, describeClose } from './handle.ts';
export type { ConnectionEvents, MigrateOptions } from './handle.ts';
export type { DatagramEvent, EndpointEvents, EndpointStats } from './endpoint.ts';
export { EndpointError } from './errors.ts';
export type { CloseInfo, EndpointErrorCode } from './errors.ts';
export { SOCKET_BUFFER_SIZE } from './udp.ts';
