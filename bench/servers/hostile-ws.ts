// The ws package on node:http for bench:hostile (its WebSocket attacks):
// permessage-deflate on, maxPayload as the others, server.maxConnections set.
// ws has no topics, no memory budget and no backpressure limit: /pub sends to
// a Set of the /sub sockets, as ws's README's broadcast example does.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HOST, MAX_CONNECTIONS, MAX_PAYLOAD, listening, nodeRoutes, note, peerRequire, unsupported } from "./hostile-common.js";

type Socket = { send(data: unknown, options: { binary: boolean }): void; on(event: string, fn: (...args: any[]) => void): void }; // eslint-disable-line @typescript-eslint/no-explicit-any
let ws: { WebSocketServer: new (options: object) => { on(event: "connection", fn: (socket: Socket, req: { url?: string }) => void): void } };
try {
  ws = peerRequire("ws");
} catch (error) {
  unsupported(`ws is not installed in bench/.peers (${(error as Error).message.split("\n")[0]})`);
}
const version = (peerRequire("ws/package.json") as { version: string }).version;

const subscribers = new Set<Socket>();
const http = createServer(nodeRoutes);
http.maxConnections = MAX_CONNECTIONS;
const wss = new ws.WebSocketServer({ server: http, perMessageDeflate: true, maxPayload: MAX_PAYLOAD, clientTracking: false });
wss.on("connection", (socket, req) => {
  const path = req.url;
  if (path === "/sub") {
    subscribers.add(socket);
    socket.on("close", () => subscribers.delete(socket));
  }
  socket.on("error", () => {});
  socket.on("message", (data: Buffer, isBinary: boolean) => {
    if (path === "/pub") {
      for (const sub of subscribers) sub.send(data, { binary: isBinary });
    } else {
      socket.send(data, { binary: isBinary });
    }
  });
});
note(`ws ${version} on node:http: perMessageDeflate on, maxPayload ${MAX_PAYLOAD >> 20} MiB, maxConnections ${MAX_CONNECTIONS}; no memory budget or backpressure limit to set`);
http.listen(0, HOST, () => listening((http.address() as AddressInfo).port));
