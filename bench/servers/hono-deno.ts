// The Hono app (hono-app.ts) on Deno.serve, run with bench/.peers' deno
// binary. hono is the project's node_modules copy, mapped by an import map
// (Deno fetches nothing: no npm:, no remote imports).
import { HOST, listening, note } from "./common.js";
import { app } from "./hono-app.js";

declare const Deno: {
  version: { deno: string };
  serve(options: { hostname: string; port: number; onListen(addr: { port: number }): void }, handler: typeof app.fetch): unknown;
};

note(`Hono on Deno.serve: deno ${Deno.version.deno}, Deno.serve(app.fetch)`);
Deno.serve({ hostname: HOST, port: 0, onListen: ({ port }) => listening(port) }, app.fetch);
