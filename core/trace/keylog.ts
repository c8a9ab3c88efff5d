/**
 * An SSLKEYLOGFILE accumulator (the NSS key log format that Wireshark, curl and browsers share):
 * one line per secret, `LABEL <client_random hex> <secret hex>`. The TLS layer hands us lines
 * (TlsOptions.keylog); we keep them once each, in order, for export and for pcapng Decryption
 * Secrets Blocks (pcapng.ts), which take them in batches (`takeNew`).
 */

const LABEL = /^[A-Z][A-Z0-9_]*$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const CLIENT_RANDOM_LENGTH = 32; // RFC 8446 §4.1.2: Random is 32 bytes

function lineHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return s;
}

/** Collects key log lines, dropping exact duplicates. */
export class KeyLog {
  private readonly kept: string[] = [];
  private readonly seen = new Set<string>();
  private taken = 0;

  /** Adds one secret; false when the same line is already there. */
  add(label: string, clientRandom: Uint8Array, secret: Uint8Array): boolean {
    if (!LABEL.test(label)) throw new RangeError(`bad key log label: ${JSON.stringify(label)}`);
    if (clientRandom.length !== CLIENT_RANDOM_LENGTH) {
      throw new RangeError(`client_random must be ${CLIENT_RANDOM_LENGTH} bytes, got ${clientRandom.length}`);
    }
    if (secret.length === 0) throw new RangeError('empty secret');
    return this.keep(`${label} ${lineHex(clientRandom)} ${lineHex(secret)}`);
  }

  /**
   * Adds one line as the TLS layer or a key log file writes it (surrounding whitespace ignored).
   * Blank lines and `#` comments are ignored (false); a malformed line is a RangeError.
   */
  addLine(line: string): boolean {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) return false;
    const parts = text.split(/\s+/);
    if (
      parts.length !== 3 ||
      !LABEL.test(parts[0]) ||
      !HEX.test(parts[1]) ||
      parts[1].length !== 2 * CLIENT_RANDOM_LENGTH ||
      !HEX.test(parts[2])
    ) {
      throw new RangeError(`not a key log line: ${JSON.stringify(line)}`);
    }
    return this.keep(`${parts[0]} ${parts[1].toLowerCase()} ${parts[2].toLowerCase()}`);
  }

  /** Adds every line of a key log text; returns how many were new. */
  addText(text: string): number {
    let n = 0;
    for (const line of text.split('\n')) if (this.addLine(line)) n++;
    return n;
  }

  private keep(line: string): boolean {
    if (this.seen.has(line)) return false;
    this.seen.add(line);
    this.kept.push(line);
    return true;
  }

  /** Number of distinct lines. */
  get size(): number {
    return this.kept.length;
  }

  /** Number of lines added since the last `takeNew()`. */
  get pending(): number {
    return this.kept.length - this.taken;
  }

  /** The distinct lines, in the order they were added. */
  lines(): readonly string[] {
    return this.kept;
  }

  /** The lines added since the last call, as key log text ("" when none). */
  takeNew(): string {
    const fresh = this.kept.slice(this.taken);
    this.taken = this.kept.length;
    return fresh.length === 0 ? '' : fresh.join('\n') + '\n';
  }

  /** The whole SSLKEYLOGFILE: one line each, LF-terminated ("" when empty). */
  toString(): string {
    return this.kept.length === 0 ? '' : this.kept.join('\n') + '\n';
  }
}
