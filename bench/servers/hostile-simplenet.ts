// simplenet for bench:hostile: maxConnections, a WebSocket memory budget,
// maxBackpressure with closeOnBackpressureLimit, and permessage-deflate on.
// The bench serves the compiled build (dist/) that users run; test/hostile.test.ts
// serves the sources as they are now (HOSTILE_FROM=src), sets its own
// maxBackpressure where the budget, not this limit, is to bound a socket
// (HOSTILE_MAX_BACKPRESSURE), and is told every WebSocket close on stdout
// (HOSTILE_TELL_CLOSES=1: "note websocket closed PATH CODE"), so that it sees the
// code the server sent to a client that cannot read it.
import { BIG, HOST, MAX_BACKPRESSURE, MAX_CONNECTIONS, MAX_PAYLOAD, MEMORY_BUDGET, TINY, TOPIC, listening, note } from "./hostile-common.js";

const { serve } = (await import(process.env.HOSTILE_FROM === "src" ? "../../src/index.ts" : "../../dist/index.js")) as typeof import("../../src/index.ts");
const maxBackpressure = Number(process.env.HOSTILE_MAX_BACKPRESSURE ?? MAX_BACKPRESSURE);
const tellCloses = process.env.HOSTILE_TELL_CLOSES === "1";

interface Data { path: string }

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
      if (tellCloses) note(`websocket closed ${(ws.data as Data).path} ${code}`);
    },
    maxPayloadLength: MAX_PAYLOAD,
    maxBackpressure,
    closeOnBackpressureLimit: true,
    perMessageDeflate: true,
    memoryBudget: MEMORY_BUDGET,
  },
});
note(`simplenet: maxConnections ${MAX_CONNECTIONS}, memoryBudget ${MEMORY_BUDGET >> 20} MiB, maxBackpressure ${maxBackpressure >> 20} MiB with closeOnBackpressureLimit, permessage-deflate on, other limits and deadlines default`);
listening(server.port);
