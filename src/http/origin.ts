// The requests an origin server answers itself, before any handler runs: a
// method it does not implement, CONNECT (it is no proxy), TRACE, and an
// absolute-form target of a scheme other than http or https. The README's
// table "What the server answers itself" lists these with the parser's own.
import type { Request } from "./request.js";
import type { Response } from "./response.js";

/** The methods Node's parser knows (node:http's METHODS): RFC 9110's, PATCH, QUERY, WebDAV's and a few more. */
export const NODE_METHODS: readonly string[] = [
  "ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LINK", "LOCK", "M-SEARCH", "MERGE",
  "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH", "PURGE",
  "PUT", "QUERY", "REBIND", "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK",
  "UNSUBSCRIBE",
];

export interface OriginOptions {
  /** The methods the server implements; anything else is answered 501. Default NODE_METHODS; "any": every token reaches the handler. */
  methods?: readonly string[] | "any";
  /** Answer TRACE by echoing the request (RFC 9110 §9.3.8) instead of 405. Default false: echoes help cross-site tracing. */
  allowTrace?: boolean;
}

/** Fields a TRACE echo leaves out (RFC 9110 §9.3.8: likely to carry secrets). */
const SECRET_FIELDS = new Set(["authorization", "proxy-authorization", "cookie"]);

export class Origin {
  private readonly methods: ReadonlySet<string> | null;
  private readonly allow: string;
  private readonly allowTrace: boolean;
  /** Whether GET is implemented: the usual request skips the Set's lookup (a hash probe, about 90 instructions). */
  private readonly getImplemented: boolean;

  constructor(options: OriginOptions) {
    const methods = options.methods ?? NODE_METHODS;
    this.methods = methods === "any" ? null : new Set(methods);
    this.allowTrace = options.allowTrace === true;
    this.getImplemented = this.methods === null || this.methods.has("GET");
    const listed = methods === "any" ? NODE_METHODS : methods;
    this.allow = listed.filter((m) => m !== "TRACE" && m !== "CONNECT").join(", ");
  }

  /** Answers `req` when the server must rather than a handler; true if it did. */
  answers(req: Request, res: Response): boolean {
    const method = req.method;
    // RFC 9110 §9.3.6: a 2xx to CONNECT means "tunnel established"; an origin
    // server has no tunnel to offer. What the client sent after it may be
    // meant for the tunnel, so the connection closes.
    if (method === "CONNECT") {
      res.fail(501, "CONNECT is not implemented: this server is not a proxy\n");
      return true;
    }
    // RFC 9110 §9.1: methods are case-sensitive tokens; one the server does not implement is 501.
    if (method === "GET" ? !this.getImplemented : this.methods !== null && !this.methods.has(method)) return refuse(res, 501, "Method not implemented\n");
    if (method === "TRACE") return this.answerTrace(req, res);
    // RFC 9112 §3.2.2, RFC 9110 §4.2: an origin server serves http and https URIs; another scheme names nothing here.
    const target = req.target;
    const first = target.charCodeAt(0);
    if (first !== 0x2f && first !== 0x2a) {
      const scheme = target.slice(0, target.indexOf(":")).toLowerCase();
      if (scheme !== "http" && scheme !== "https") return refuse(res, 400, "Invalid request target: not an http or https URI\n");
    }
    return false;
  }

  private answerTrace(req: Request, res: Response): boolean {
    if (!this.allowTrace) {
      res.setHeader("Allow", this.allow);
      return refuse(res, 405, "TRACE is not allowed\n");
    }
    let echo = `${req.method} ${req.target} HTTP/${req.version}\r\n`;
    for (const [name, value] of req.headers) if (!SECRET_FIELDS.has(name.toLowerCase())) echo += `${name}: ${value}\r\n`;
    res.setHeader("Content-Type", "message/http");
    res.end(`${echo}\r\n`);
    return true;
  }
}

function refuse(res: Response, status: number, text: string): true {
  res.status = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end(text);
  return true;
}
