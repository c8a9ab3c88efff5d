/**
 * The congestion controller registry: a name picks the algorithm (as a Config option would).
 */
import type {
  CongestionControlAlgorithm,
  CongestionController,
  CongestionControllerOptions,
} from './congestion.ts';
import { Cubic } from './cubic.ts';
import { NewReno } from './newreno.ts';
import { MIN_MAX_DATAGRAM_SIZE } from './types.ts';

type Factory = (maxDatagramSize: number, options: CongestionControllerOptions) => CongestionController;

const FACTORIES: Record<CongestionControlAlgorithm, Factory> = {
  newreno: (size, options) => new NewReno(size, options),
  cubic: (size, options) => new Cubic(size, options),
};

/** The algorithm names createCongestionController accepts. */
export const CONGESTION_CONTROL_ALGORITHMS = Object.keys(FACTORIES) as CongestionControlAlgorithm[];

/**
 * A new controller running `name` (RFC 9002 NewReno or RFC 9438 CUBIC, both with HyStart++ unless
 * `options.hyStart` is false) for datagrams of `maxDatagramSize` bytes (default 1200, RFC 9000
 * §14). An unknown name is a RangeError.
 */
export function createCongestionController(
  name: CongestionControlAlgorithm,
  maxDatagramSize: number = MIN_MAX_DATAGRAM_SIZE,
  options: CongestionControllerOptions = {},
): CongestionController {
  const factory = Object.hasOwn(FACTORIES, name) ? FACTORIES[name] : undefined;
  if (factory === undefined) throw new RangeError(`unknown congestion control algorithm ${String(name)}`);
  return factory(maxDatagramSize, options);
}
