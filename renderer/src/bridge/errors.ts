/** Turning any rejection from a bridge into the contract's BridgeError (no DOM: unit-tested in Node). */
import { BridgeError, type RequestError } from '../../../main/ipc/contract.ts';

/**
 * Errors crossing contextBridge lose their class: Electron rejects with a plain Error whose message
 * may carry the contract's RequestError as JSON. This turns any rejection back into a BridgeError.
 */
export function toBridgeError(e: unknown): BridgeError {
  if (e instanceof BridgeError) return e;
  if (typeof e === 'object' && e !== null && 'kind' in e && 'message' in e) {
    const r = e as RequestError;
    return new BridgeError(r.kind, String(r.message));
  }
  const message = e instanceof Error ? e.message : String(e);
  const json = message.indexOf('{');
  if (json >= 0) {
    try {
      const r = JSON.parse(message.slice(json)) as Partial<RequestError>;
      if (typeof r.kind === 'string' && typeof r.message === 'string')
        return new BridgeError(r.kind, r.message);
    } catch {
      // not JSON: fall through
    }
  }
  return new BridgeError(
    'internal',
    message.replace(/^Error invoking remote method '[^']*': (Error: )?/, ''),
  );
}
