// ResponseStream (parser/src/response-stream.ts) through the one stream
// driver (test/support/stream.ts, driveMessages), for the tests and the
// fuzzer: feeds a byte stream in the given pieces, optionally ends the input,
// and records what came out as plain data, so that two runs compare as JSON,
// checking the invariants on the way.
import { ResponseStream, type ParserInstance, type ResponseHead } from "../../parser/src/parser.ts";
import { RESULT } from "../../parser/src/abi.ts";
import { driveMessages, headEndBringsError, HEAD_END, type DriveOptions, type RecordedMessage, type Run } from "./stream.ts";

export interface ResponseMessage extends RecordedMessage {
  status: number;
  reason: string;
  /** "none", "length", "chunked", "until-close" or "tunnel". */
  framing: string;
}

/** As StreamRun, for responses: `messages` holds interim (1xx) ones too; `pending` is false after endOfInput. */
export type ResponseRun = Run<ResponseMessage>;

/** DriveOptions, and the request each response answers; `stopAtClose` stops after a final response that is not keep-alive, as a client does. */
export interface ResponseDriveOptions extends DriveOptions {
  /** The method of the request each response answers. */
  requestMethod?: string;
  /** Call endOfInput() after the last piece: the connection closed. */
  endOfInput?: boolean;
}

const FRAMINGS = ["none", "length", "chunked", "until-close", "tunnel"];

/** Feeds `pieces`, one push each; then, with `endOfInput`, ends the input. */
export function driveResponses(parser: ParserInstance, pieces: readonly Uint8Array[], options: ResponseDriveOptions = {}): ResponseRun {
  return driveMessages<ResponseHead, ResponseMessage>(
    pieces, options, (on) => new ResponseStream(parser, on, { requestMethod: options.requestMethod }), {
      message: (head) => ({
        status: head.status, reason: head.reason, version: head.version, headers: head.headers.toArray(), body: "", trailers: [],
        keepAlive: head.keepAlive, upgrade: head.upgrade, framing: FRAMINGS[head.framing] ?? `framing ${head.framing}`, end: -1,
      }),
      lineSpans: [["reason", RESULT.REASON_OFF, RESULT.REASON_LEN]],
      // A client's connection closes after a final response that is not keep-alive.
      endsConnection: (m) => !m.keepAlive && m.status >= 200,
    },
  );
}

/** The run as compared between feeds and builds. */
export function responseRunKey(run: ResponseRun): string {
  const error = run.error === null ? null : { code: run.error.code, offset: run.error.offset };
  return JSON.stringify({ messages: run.messages, partial: run.error === null ? run.partial : null, error, pending: run.pending, position: run.error === null ? run.position : null });
}

/**
 * As for requests (test/support/stream.ts, deferredHeadFault): fed in
 * pieces, a fault in a head whose end has not arrived is reported once it
 * arrives; a split run still waiting in that head, after the same messages,
 * is the same outcome when the head's end, fed next, brings the same error.
 */
export function deferredResponseFault(
  parser: ParserInstance, pieces: readonly Uint8Array[], whole: ResponseRun, split: ResponseRun, options: ResponseDriveOptions = {},
): boolean {
  // With endOfInput, the split run reports the head it waits in as cut short.
  if (whole.error === null || (split.error !== null && split.error.code !== "TRUNCATED") || split.partial !== null) return false;
  return headEndBringsError(whole, split, driveResponses(parser, [...pieces, HEAD_END], { ...options, endOfInput: false }));
}
