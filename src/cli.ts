#!/usr/bin/env node
// The simplenet command: the article's /hi server by default, a folder with
// --root, or an echo of every request with --echo.
import { parseArgs } from "node:util";
import { isMainThread } from "node:worker_threads";
import { Router, serve, serveStatic, type Handler, type Response, type ServeOptions } from "./index.js";
import { DEFAULT_MAX_BODY_BYTES } from "./server/server.js";

const usage = `Usage: simplenet [options]

Serves GET /hi -> "Hi" (405 for another method on /hi, 404 for any other
path), like the article
"How to write a Golang HTTP server with Linux system calls".

Options:
  -p, --port N         port to listen on (default 8081; 0 lets the kernel pick)
  -H, --host HOST      address or host name to bind (default 0.0.0.0; "localhost",
                       "::", names from /etc/hosts or DNS)
  -r, --root DIR       serve the files under DIR instead (sendfile, Range, ETag)
  -e, --echo           answer every request with a JSON echo of it instead
  -b, --max-body BYTES largest request body taken (default ${DEFAULT_MAX_BODY_BYTES});
                       a larger one is answered 413
  -w, --workers N      worker threads, each with its own listener ("auto": one per core)
  -u, --upgrade-from PATH
                       restart without losing a request: take the listening socket
                       of the simplenet running with the same PATH (a Unix socket),
                       which then finishes its requests and exits; this one offers
                       it at PATH in turn (when nothing runs there: listen anew)
  -t, --trace          print every system call, strace-style, to stderr
  -q, --quiet          no access log (one line per request on stdout by default)
  -h, --help           show this help
`;

interface Listening {
  host: string;
  port: number;
  /** With --workers: the worker threads serve() started (a WorkerPool). */
  workers?: Set<unknown>;
  close(): Promise<void>;
}

function exit(message: string): never {
  process.stderr.write(message);
  process.exit(2);
}

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string", short: "p", default: "8081" },
        host: { type: "string", short: "H", default: "0.0.0.0" },
        root: { type: "string", short: "r" },
        echo: { type: "boolean", short: "e", default: false },
        "max-body": { type: "string", short: "b" },
        workers: { type: "string", short: "w" },
        "upgrade-from": { type: "string", short: "u" },
        trace: { type: "boolean", short: "t", default: false },
        quiet: { type: "boolean", short: "q", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    exit(`${(error as Error).message}\n\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) exit(`invalid port: ${values.port}\n`);
  let workers: number | "auto" | undefined;
  if (values.workers !== undefined) {
    workers = values.workers === "auto" ? "auto" : Number(values.workers);
    if (workers !== "auto" && !(Number.isInteger(workers) && workers >= 1)) exit(`invalid --workers: ${values.workers}\n`);
  }
  const maxBodyText = values["max-body"];
  const maxBody = maxBodyText === undefined ? undefined : Number(maxBodyText);
  if (maxBody !== undefined && !(/^\d+$/.test(maxBodyText!) && Number.isSafeInteger(maxBody))) {
    exit(`invalid --max-body: ${maxBodyText} (a number of bytes)\n`);
  }
  if (values.root !== undefined && values.echo) exit("--root and --echo cannot be used together\n");
  const handover = values["upgrade-from"];
  if (handover !== undefined && workers !== undefined && workers !== 1) exit("--upgrade-from takes one listener: it cannot be used with --workers\n");

  let handler: Handler;
  try {
    handler = values.root !== undefined ? serveStatic(values.root) : values.echo ? echo : hi().handler;
  } catch (error) {
    exit(`simplenet: ${(error as Error).message}\n`);
  }
  const options: ServeOptions = { port, host: values.host, handler, trace: values.trace, workers, limits: { maxBodyBytes: maxBody } };
  if (!values.quiet) options.onResponse = logLine;
  if (handover !== undefined) {
    options.handover = handover;
    options.onHandover = (successor) => {
      process.stdout.write(`simplenet handed over to pid ${successor.pid}\n`);
      process.exit(0);
    };
  }
  (serve(options) as Promise<Listening>).then(
    (server) => {
      // In a worker thread the main thread reports and handles the signals.
      if (!isMainThread) return;
      const stop = (): void => {
        server.close().then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const host = server.host.includes(":") ? `[${server.host}]` : server.host;
      // "auto" is one per core: say how many that was.
      const threads = workers === undefined ? "" : ` (${server.workers?.size ?? 1} worker thread${(server.workers?.size ?? 1) === 1 ? "" : "s"})`;
      process.stdout.write(`simplenet listening on http://${host}:${server.port}/${threads}\n`);
    },
    (error: Error & { code?: string; syscall?: string }) => {
      const why = error.syscall !== undefined ? (error.code ?? error.message) : error.message;
      process.stderr.write(`simplenet: cannot listen on ${values.host}:${port}: ${why}\n`);
      process.exit(1);
    },
  );
}

/** The article's server: GET /hi answers "Hi". */
function hi(): Router {
  return new Router().get("/hi", (_req, res) => {
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    res.end("Hi");
  });
}

/**
 * Answers with the request as JSON, the body as a string of one character
 * per byte (latin1). The JSON is made as bytes: as one string, a body of
 * 90 MB would pass V8's longest string once escaped (a NUL is six characters).
 */
const echo: Handler = async (req, res) => {
  const body = await req.bytes();
  const fields = JSON.stringify({ method: req.method, target: req.target, version: req.version, headers: req.headers.toArray() });
  // The object without its closing brace, the body member, the brace.
  const start = Buffer.from(`${fields.slice(0, -1)},"body":"`);
  let length = start.length + 2;
  for (let i = 0; i < body.length; i++) length += ESCAPED[body[i]].length;
  const out = Buffer.allocUnsafe(length);
  let at = start.copy(out);
  for (let i = 0; i < body.length; i++) {
    const escaped = ESCAPED[body[i]];
    if (escaped.length === 1) out[at++] = escaped[0];
    else for (let k = 0; k < escaped.length; k++) out[at++] = escaped[k];
  }
  out.write('"}', at, "latin1");
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.end(out);
};

/** Each byte as JSON.stringify writes it as a latin1 character of a string, in UTF-8. */
const ESCAPED: Uint8Array[] = Array.from({ length: 256 }, (_, byte) => Buffer.from(JSON.stringify(String.fromCharCode(byte)).slice(1, -1)));

/**
 * One line per response on stdout, the server's own answers (400, 413, 408,
 * ...) too: method, target, status, body bytes sent, milliseconds; "-" for
 * the method and target of a request whose head could not be read.
 */
function logLine(res: Response): void {
  const ms = (Date.now() - res.startedAt).toFixed(0);
  const { method, target } = res.request;
  process.stdout.write(`${method || "-"} ${target || "-"} ${res.status} ${res.bytesWritten} ${ms}ms\n`);
}

main();
