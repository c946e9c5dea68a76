// simplenet's WebSocket server, from the compiled build (dist/) that users run.
import { serve } from "../../dist/index.js";
import { HOST, IDLE_TIMEOUT_S, MAX_PAYLOAD, TOPIC, listening, note } from "./ws-common.js";

interface Data { path: string }

const server = await serve({
  host: HOST,
  port: 0,
  handler: (_req, res) => {
    res.status = 404;
    res.end("Not Found\n");
  },
  limits: { maxConnections: 100_000 },
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
    idleTimeout: IDLE_TIMEOUT_S,
    perMessageDeflate: false,
  },
});
note("simplenet: serve({ websocket }) from dist/, permessage-deflate off");
listening(server.port);
