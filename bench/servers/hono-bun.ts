// The Hono app (hono-app.ts) on Bun.serve, run with bench/.peers' bun binary.
// hono comes from the project's node_modules, as for the Node servers.
import { HOST, listening, note } from "./common.js";
import { app } from "./hono-app.js";

declare const Bun: { version: string; serve(options: { hostname: string; port: number; fetch: typeof app.fetch }): { port: number } };

note(`Hono on Bun.serve: bun ${Bun.version}, Bun.serve({ fetch: app.fetch })`);
listening(Bun.serve({ hostname: HOST, port: 0, fetch: app.fetch }).port);
