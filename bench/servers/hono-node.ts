// The Hono app on @hono/node-server: the fetch path over node:http.
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { HOST, listening } from "./common.js";
import { app } from "./hono-app.js";

serve({ fetch: app.fetch, hostname: HOST, port: 0 }, (info: AddressInfo) => listening(info.port));
