/**
 * The HTTP message state of one request stream as it is received (RFC 9114 §4.1): the sequence
 * HEADERS (interim responses first, for a response), DATA*, optional trailing HEADERS, then the
 * end of the stream; Content-Length against the DATA received (§4.1.2). A bad frame sequence is
 * a connection error H3_FRAME_UNEXPECTED; a malformed message is a stream error H3_MESSAGE_ERROR.
 * Pure: the connection feeds it what the stream reader and the QPACK decoder produce.
 */
import { H3Error, H3ErrorCode } from './errors.ts';
import { checkRequest, checkResponse, checkTrailers, responseHasNoContent } from './message.ts';
import type { FieldLine } from './qpack/decoder.ts';

/** What a received field section turned out to be. */
export type SectionKind = 'request' | 'interim' | 'response' | 'trailers';

/** Where a received message is: waiting for its header section, in its body, after trailers, done. */
export type MessagePhase = 'headers' | 'body' | 'trailers' | 'done';

function malformed(reason: string): H3Error {
  return new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, reason, 'stream'); // RFC 9114 §4.1.2
}

function unexpected(reason: string): H3Error {
  return new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, reason); // RFC 9114 §4.1
}

/** The receiving half of a request stream, at the HTTP message level. */
export class MessageState {
  phase: MessagePhase = 'headers';
  /** Content-Length of the message, -1 when absent or when it does not bound the DATA. */
  contentLength = -1;
  /** Sum of the DATA frame lengths received (RFC 9114 §4.1.2). */
  received = 0;
  /** The message may carry no content (a response to HEAD, a 204 or 304). */
  noContent = false;

  /**
   * @param isRequest whether the message is a request (we are the server)
   * @param requestMethod for a response: the method of our request (HEAD responses have no content)
   */
  constructor(
    readonly isRequest: boolean,
    readonly requestMethod = 'GET',
  ) {}

  /** A decoded HEADERS frame: returns what it is, or raises H3_MESSAGE_ERROR / H3_FRAME_UNEXPECTED. */
  onHeaders(headers: readonly FieldLine[]): SectionKind {
    switch (this.phase) {
      case 'headers': {
        if (this.isRequest) {
          const r = checkRequest(headers);
          if (typeof r === 'string') throw malformed(r);
          // A CONNECT tunnel's DATA is not content that Content-Length counts (§4.4).
          this.contentLength = r.method === 'CONNECT' ? -1 : r.contentLength;
          this.phase = 'body';
          return 'request';
        }
        const r = checkResponse(headers);
        if (typeof r === 'string') throw malformed(r);
        if (r.status < 200) return 'interim'; // §4.1: zero or more interim responses, then a final one
        this.noContent = responseHasNoContent(this.requestMethod, r.status);
        const tunnel = this.requestMethod === 'CONNECT' && r.status < 300;
        this.contentLength = this.noContent || tunnel ? -1 : r.contentLength;
        this.phase = 'body';
        return 'response';
      }
      case 'body': {
        const bad = checkTrailers(headers);
        if (bad !== null) throw malformed(bad);
        this.phase = 'trailers';
        return 'trailers';
      }
      default:
        throw unexpected('HEADERS after the trailer section');
    }
  }

  /** A DATA frame header of `length` bytes (RFC 9114 §4.1, §4.1.2). */
  onData(length: number): void {
    if (this.phase === 'headers') throw unexpected('DATA before HEADERS');
    if (this.phase !== 'body') throw unexpected('DATA after the trailer section');
    if (length === 0) return;
    if (this.noContent) throw malformed('content in a response that has none');
    this.received += length;
    if (this.contentLength >= 0 && this.received > this.contentLength)
      throw malformed(`more DATA than content-length ${this.contentLength}`);
  }

  /** The stream ended cleanly: the message must be complete (RFC 9114 §4.1, §4.1.2). */
  onEnd(): void {
    if (this.phase === 'headers') {
      // §4.1: the server aborts a request stream that ends without a complete request.
      if (this.isRequest)
        throw new H3Error(H3ErrorCode.H3_REQUEST_INCOMPLETE, 'request without HEADERS', 'stream');
      throw malformed('response stream ended without a final response');
    }
    if (this.contentLength >= 0 && this.received !== this.contentLength)
      throw malformed(`${this.received} bytes of DATA for content-length ${this.contentLength}`);
    this.phase = 'done';
  }
}
