// simplenet for bench:hostile, from the compiled build (dist/) that users run:
// maxConnections, a WebSocket memory budget, maxBackpressure with
// closeOnBackpressureLimit, and permessage-deflate on.
import { serve } from "../../dist/index.js";
import { BIG, HOST, MAX_BACKPRESSURE, MAX_CONNECTIONS, MAX_PAYLOAD, MEMORY_BUDGET, TINY, TOPIC, listening, note } from "./hostile-common.js";

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
    maxPayloadLength: MAX_PAYLOAD,
    maxBackpressure: MAX_BACKPRESSURE,
    closeOnBackpressureLimit: true,
    perMessageDeflate: true,
    memoryBudget: MEMORY_BUDGET,
  },
});
note(`simplenet: maxConnections ${MAX_CONNECTIONS}, memoryBudget ${MEMORY_BUDGET >> 20} MiB, maxBackpressure ${MAX_BACKPRESSURE >> 20} MiB with closeOnBackpressureLimit, permessage-deflate on, other limits and deadlines default`);
listening(server.port);
