// uWebSockets.js for bench:hostile (its npm republish, loaded as ws-uws.ts
// loads it: the addon itself, never the package's pure-JS fallback): the
// shared routes, maxBackpressure with closeOnBackpressureLimit, the shared
// compressor. uWS.js has no connection limit and no memory budget to set.
import { BIG, HOST, MAX_BACKPRESSURE, MAX_PAYLOAD, TINY, TOPIC, listening, note, peerRequire, unsupported } from "./hostile-common.js";

const PACKAGE = "@trufflesuite/uws-js-unofficial";
const binary = `${PACKAGE}/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
/* eslint-disable @typescript-eslint/no-explicit-any */
let uws: any;
try {
  uws = peerRequire(binary);
} catch (error) {
  unsupported(`uWS.js's addon does not load here (${binary}: ${(error as Error).message.split("\n")[0]})`);
}
const version = (peerRequire(`${PACKAGE}/package.json`) as { version: string }).version;

interface Data { path: string }

const app = uws.App();
app.ws("/*", {
  compression: uws.SHARED_COMPRESSOR,
  maxPayloadLength: MAX_PAYLOAD,
  maxBackpressure: MAX_BACKPRESSURE,
  closeOnBackpressureLimit: true,
  upgrade: (res: any, req: any, context: unknown) => {
    res.upgrade({ path: req.getUrl() } as Data, req.getHeader("sec-websocket-key"), req.getHeader("sec-websocket-protocol"), req.getHeader("sec-websocket-extensions"), context);
  },
  open: (ws: any) => {
    if ((ws.getUserData() as Data).path === "/sub") ws.subscribe(TOPIC);
  },
  message: (ws: any, message: ArrayBuffer, isBinary: boolean) => {
    if ((ws.getUserData() as Data).path === "/pub") app.publish(TOPIC, message, isBinary);
    else ws.send(message, isBinary);
  },
});
app.get("/tiny", (res: any) => res.writeHeader("Content-Type", "text/plain").end(TINY));
app.get("/big", (res: any) => res.writeHeader("Content-Type", "application/octet-stream").end(BIG));
app.any("/*", (res: any) => res.writeStatus("404 Not Found").end("Not Found\n"));
note(`uWS.js ${PACKAGE} ${version}: maxBackpressure ${MAX_BACKPRESSURE >> 20} MiB with closeOnBackpressureLimit, SHARED_COMPRESSOR; no connection limit or memory budget to set`);
app.listen(HOST, 0, (token: unknown) => {
  if (!token) unsupported("uWS.js could not listen");
  listening(uws.us_socket_local_port(token));
});
