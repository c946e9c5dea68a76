// The server test/hostile.test.ts attacks, in a child process of its own so
// that the RSS measured is the server's: the routes, WebSocket roles and
// limits of bench:hostile (bench/servers/hostile-common.ts), set as
// bench/servers/hostile-simplenet.ts sets them, but served from src/ as it
// is now (the bench runs the compiled dist/, which may be older). Every
// WebSocket close is told on stdout ("note websocket closed PATH CODE"), so
// the test sees the code the server sent to a client that cannot read it.
import { serve } from "../../src/index.ts";
import { BIG, HOST, MAX_BACKPRESSURE, MAX_CONNECTIONS, MAX_PAYLOAD, MEMORY_BUDGET, TINY, TOPIC, listening, note } from "../../bench/servers/hostile-common.ts";

interface Data { path: string }

/** maxBackpressure, bench:hostile's unless the test sets one (where the budget, not this limit, is to bound a socket). */
const maxBackpressure = Number(process.env.HOSTILE_MAX_BACKPRESSURE ?? MAX_BACKPRESSURE);

const server = await serve({
  host: HOST,
  port: 0,
  handler: (req, res) => {
    if (req.path === "/tiny") {
      res.setHeader("Content-Type", "text/plain");
      return res.end(TINY);
    }
    if (req.path === "/big") {
      res.setHeader("Content-Type", "application/octet-stream");
      return res.end(BIG);
    }
    if (req.path === "/big-afresh") {
      // 1 MiB made for each response, as a handler that renders its answer makes it: what the
      // server holds of these is memory RSS shows (BIG is one buffer however often it is queued).
      res.setHeader("Content-Type", "application/octet-stream");
      return res.end(Buffer.from(BIG));
    }
    res.status = 404;
    res.end("Not Found\n");
  },
  limits: { maxConnections: MAX_CONNECTIONS },
  websocket: {
    upgrade: (req) => ({ data: { path: req.path } as Data }),
    open(ws) {
      if ((ws.data as Data).path === "/sub") ws.subscribe(TOPIC);
    },
    message(ws, message, isBinary) {
      if ((ws.data as Data).path === "/pub") server.publish(TOPIC, message, { binary: isBinary });
      else ws.send(message, { binary: isBinary });
    },
    close(ws, code) {
      note(`websocket closed ${(ws.data as Data).path} ${code}`);
    },
    maxPayloadLength: MAX_PAYLOAD,
    maxBackpressure,
    closeOnBackpressureLimit: true,
    perMessageDeflate: true,
    memoryBudget: MEMORY_BUDGET,
  },
});
listening(server.port);
