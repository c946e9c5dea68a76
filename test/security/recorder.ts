// A server whose handler records every request it is given, per client port,
// so a test can tell which requests were dispatched on which connection —
// a smuggled request shows up here even when its response is lost.
import { serve, type Handler, type Server, type ServeOptions } from "../../src/index.ts";

export interface Recorder {
  server: Server;
  /** "METHOD target" of each request dispatched for the client at this port, in order. */
  seen(clientPort: number): string[];
  /** The bodies the echo handler read, in dispatch order ("" until read). */
  bodies(clientPort: number): string[];
  /** Drops what was recorded for a client port, before a new connection reuses it. */
  forget(clientPort: number): void;
  /** Errors passed to onError. */
  errors: unknown[];
}

/**
 * Starts a server on 127.0.0.1, port 0. The default handler echoes: it reads
 * the whole body and answers 200 with "METHOD target", a newline and the body
 * (with Connection: close when the request has an X-Close field).
 */
export async function startRecorder(options: Partial<ServeOptions> = {}, handler?: Handler): Promise<Recorder> {
  const seen = new Map<number, string[]>();
  const bodies = new Map<number, string[]>();
  const errors: unknown[] = [];
  const listFor = (map: Map<number, string[]>, port: number): string[] => {
    let list = map.get(port);
    if (list === undefined) map.set(port, (list = []));
    return list;
  };
  const echo: Handler = async (req, res) => {
    const slot = listFor(bodies, req.remote.port);
    const at = slot.push("") - 1;
    const body = await req.text();
    slot[at] = body;
    if (req.headers.has("x-close")) res.setHeader("Connection", "close");
    res.end(`${req.method} ${req.target}\n${body}`);
  };
  const answer = handler ?? echo;
  const server = await serve({
    port: 0,
    host: "127.0.0.1",
    onError: (error) => errors.push(error),
    ...options,
    handler: (req, res) => {
      listFor(seen, req.remote.port).push(`${req.method} ${req.target}`);
      return answer(req, res);
    },
  });
  return {
    server,
    seen: (port) => seen.get(port) ?? [],
    bodies: (port) => bodies.get(port) ?? [],
    forget: (port) => {
      seen.delete(port);
      bodies.delete(port);
    },
    errors,
  };
}
