/**
 * The bridge between `ews-javascript-api` and {@link EwsTransport}: the library hands
 * over a request (`IXHROptions`) and gets back something shaped like an XMLHttpRequest.
 *
 * Only successful SOAP answers reach the library. Anything else is judged here, where
 * status, headers and body are still at hand, and kept in {@link CallXhr.failure}: the
 * library turns rejections into its own error objects, which keep none of that (and a
 * non-SOAP body it tries to parse can leave its promise unsettled).
 *
 * @module
 */
import type { ews } from "./library.ts";
import type { EwsError, HttpAnswer } from "./errors.ts";
import type { EwsTransport } from "./transport.ts";

/** Judges an answer: null when it is a successful SOAP response. */
export type Judge = (answer: HttpAnswer) => Promise<EwsError | null>;

/** Judges a failure to get any answer. */
export type NetworkJudge = (error: unknown) => EwsError;

/** What the library expects back: an XMLHttpRequest, of which it reads a few members. */
type XhrAnswer = Awaited<ReturnType<ews.IXHRApi["xhr"]>>;

/** An answer in the shape the library reads: status, text, headers. */
function xhrLike(answer: HttpAnswer): XhrAnswer {
  const lines = Object.entries(answer.headers).map(([name, value]) => `${name}: ${value}`);
  return {
    readyState: 4,
    status: answer.status,
    statusText: answer.statusText,
    responseText: answer.body,
    response: answer.body,
    headers: answer.headers,
    getAllResponseHeaders: () => lines.join("\r\n"),
    getResponseHeader: (name: string) => answer.headers[name.toLowerCase()] ?? null,
  } as unknown as XhrAnswer;
}

/**
 * The library's XHR for the requests of one call: one instance per call, so that the
 * failure it keeps belongs to that call alone even when calls overlap.
 */
export class CallXhr implements ews.IXHRApi {
  readonly apiName = "calsync";
  /** Why the last request of this call failed, judged from its answer; null if none did. */
  failure: EwsError | null = null;

  /** Sends through `transport`, judging answers with `judge` and failures with `network`. */
  constructor(
    private readonly transport: EwsTransport,
    private readonly judge: Judge,
    private readonly network: NetworkJudge,
  ) {}

  async xhr(options: ews.IXHROptions): Promise<XhrAnswer> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      headers[name.toLowerCase()] = String(value);
    }
    let answer: HttpAnswer;
    try {
      answer = await this.transport.post(String(options.data ?? ""), headers);
    } catch (error) {
      throw this.failure = this.network(error);
    }
    const failure = await this.judge(answer);
    if (failure !== null) throw this.failure = failure;
    return xhrLike(answer);
  }

  xhrStream(): Promise<XhrAnswer> {
    // Streaming notifications are not used; saying so beats hanging.
    return Promise.reject(new Error("streaming requests are not supported"));
  }

  disconnect(): void {}
}
