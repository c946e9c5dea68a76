// The `ws` package on node:http: a WebSocketServer attached to an http.Server.
// ws has no topics, so /pub sends to a Set of the /sub sockets, as ws's own
// README's broadcast example does.
import { createServer } from "node:http";
import { HOST, MAX_PAYLOAD, listening, note, peerRequire, unsupported } from "./ws-common.js";

type Socket = { send(data: unknown, options: { binary: boolean }): void; on(event: string, fn: (...args: any[]) => void): void }; // eslint-disable-line @typescript-eslint/no-explicit-any
let ws: { WebSocketServer: new (options: object) => { on(event: "connection", fn: (socket: Socket, req: { url?: string }) => void): void } };
try {
  ws = peerRequire("ws");
} catch (error) {
  unsupported(`ws is not installed in bench/.peers (${(error as Error).message.split("\n")[0]})`);
}
const version = (peerRequire("ws/package.json") as { version: string }).version;
const has = (name: string) => {
  try {
    peerRequire.resolve(name);
    return true;
  } catch {
    return false;
  }
};
note(`ws ${version} on node:http, perMessageDeflate off; bufferutil ${has("bufferutil") && !process.env.WS_NO_BUFFER_UTIL ? "present" : "absent"}, utf-8-validate ${has("utf-8-validate") && !process.env.WS_NO_UTF_8_VALIDATE ? "present" : "absent"}`);

const subscribers = new Set<Socket>();
const http = createServer((_req, res) => res.writeHead(404).end("Not Found\n"));
const wss = new ws.WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: MAX_PAYLOAD, clientTracking: false });
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
http.listen(0, HOST, () => listening((http.address() as { port: number }).port));
