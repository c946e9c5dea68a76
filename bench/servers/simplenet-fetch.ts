// The Hono app on simplenet's fetch-handler support, serve({ fetch }), from
// the compiled build (dist/) that users run.
import { serve, type ServeOptions } from "../../dist/index.js";
import { HOST, KEEP_ALIVE_MS, listening, unsupported } from "./common.js";
import { app } from "./hono-app.js";

const options = { host: HOST, port: 0, fetch: app.fetch, timeouts: { keepAlive: KEEP_ALIVE_MS }, onError() {} };
let server;
try {
  server = await serve(options as unknown as ServeOptions);
} catch (error) {
  unsupported(`serve({ fetch }) failed: ${(error as Error).message}`);
}
// serve() may accept the option and ignore it: only an answer from the app counts.
const answer = await fetch(`http://${HOST}:${server.port}/hi`).then((r) => r.text(), () => "");
if (answer !== "Hi") {
  await server.close();
  unsupported("serve({ fetch }) did not answer through the Hono app");
}
listening(server.port);
