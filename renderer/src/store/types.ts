/** The contract's types the store and components use, in one place. */
export type * from '../../../main/ipc/contract.ts';
export type { ConnectionStats as ConnectionStatsLike } from '../../../core/connection/types.ts';
export type { ParametersSet, QlogFrame, QlogPacketType } from '../../../core/trace/index.ts';
