// The Hono app on simplenet's fetch-handler support, serve({ fetch }).
// Until that exists, this says so and the harness skips it.
import { serve, type ServeOptions } from "../../src/index.js";
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
  unsupported("serve({ fetch }) does not exist yet in src/");
}
listening(server.port);
