// uWebSockets.js, from its npm republish @trufflesuite/uws-js-unofficial (the
// binaries of uWebSockets.js v20.30.0). Its native addon is loaded directly:
// the package's entry falls back to a pure-JS server on ws when the addon
// does not load, and that fallback must never be measured as uWS.js.
// /pub publishes with app.publish: uWS's ws.publish delivers nothing when the
// sending socket is itself subscribed to no topic (it returns false).
import { HOST, IDLE_TIMEOUT_S, MAX_PAYLOAD, TOPIC, listening, note, peerRequire, unsupported } from "./ws-common.js";

const PACKAGE = "@trufflesuite/uws-js-unofficial";
const binary = `${PACKAGE}/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let uws: any;
try {
  uws = peerRequire(binary);
} catch (error) {
  unsupported(`uWS.js's addon does not load here (${binary}: ${(error as Error).message.split("\n")[0]})`);
}
const version = (peerRequire(`${PACKAGE}/package.json`) as { version: string }).version;
note(`uWS.js: ${PACKAGE} ${version}, native addon for Node ABI ${process.versions.modules}, compression off`);

interface Data { path: string }

const app = uws.App();
app.ws("/*", {
  compression: uws.DISABLED,
  maxPayloadLength: MAX_PAYLOAD,
  maxBackpressure: 16 * 1024 * 1024,
  idleTimeout: IDLE_TIMEOUT_S,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  upgrade: (res: any, req: any, context: unknown) => {
    res.upgrade({ path: req.getUrl() } as Data, req.getHeader("sec-websocket-key"), req.getHeader("sec-websocket-protocol"), req.getHeader("sec-websocket-extensions"), context);
  },
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  open: (ws: any) => {
    if ((ws.getUserData() as Data).path === "/sub") ws.subscribe(TOPIC);
  },
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  message: (ws: any, message: ArrayBuffer, isBinary: boolean) => {
    if ((ws.getUserData() as Data).path === "/pub") app.publish(TOPIC, message, isBinary);
    else ws.send(message, isBinary);
  },
});
app.any("/*", (res: { writeStatus(s: string): { end(s: string): void } }) => res.writeStatus("404 Not Found").end("Not Found\n"));
app.listen(HOST, 0, (token: unknown) => {
  if (!token) unsupported("uWS.js could not listen");
  listening(uws.us_socket_local_port(token));
});
