// Shared helpers of the core/recovery tests.
import { LossRecovery } from '../../../core/recovery/loss-recovery.ts';
import type { LossRecoveryOptions } from '../../../core/recovery/loss-types.ts';
import { SentPacket } from '../../../core/recovery/sent-packets.ts';
import type { PacketNumberSpace } from '../../../core/recovery/types.ts';
import type { AckRange } from '../../../core/wire/frame-types.ts';

/** A LossRecovery over NewReno whose payload is the packet number (easy to assert on). */
export function newRecovery(options: Partial<LossRecoveryOptions> = {}): LossRecovery<number> {
  return new LossRecovery<number>({ isServer: true, congestionControl: 'newreno', ...options });
}

/** Sends one packet; ack-eliciting and in flight unless told otherwise. */
export function send(
  r: LossRecovery<number>,
  space: PacketNumberSpace,
  pn: number,
  now: number,
  size = 1200,
  ackEliciting = true,
  inFlight = true,
): SentPacket<number> {
  const packet = new SentPacket(space, pn, size, ackEliciting, inFlight, pn);
  r.onPacketSent(packet, now);
  return packet;
}

/** Descending ACK ranges from [smallest, largest] pairs written in any order. */
export function ranges(...pairs: [number, number][]): AckRange[] {
  return pairs.map(([smallest, largest]) => ({ smallest, largest })).sort((a, b) => b.largest - a.largest);
}

/** The packet numbers of some packets. */
export function pns(packets: readonly SentPacket<number>[]): number[] {
  return packets.map((p) => p.packetNumber);
}
