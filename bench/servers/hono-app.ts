// One small fetch-style app, served by @hono/node-server and (once it can) by simplenet.
import { Hono } from "hono";
import { PAYLOAD } from "./common.js";

export const app = new Hono();
app.get("/hi", (c) => c.text("Hi"));
app.get("/json", (c) => c.json(PAYLOAD));
