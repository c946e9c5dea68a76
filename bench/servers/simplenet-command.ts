// The simplenet command's GET /hi (src/cli.ts: a Router with that one route),
// or, with BENCH_ROUTER=0, the same handler behind the test a handler written
// without a router makes (the path, the method): the pair bench:instructions
// compares to price the router.
import { Router, serve, type Handler } from "../../dist/index.js";
import { HOST, listening } from "./common.js";

const hi: Handler = (_req, res) => {
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.end("Hi");
};
const plain: Handler = (req, res) => {
  const method = req.method;
  if (req.path === "/hi" && (method === "GET" || method === "HEAD")) return hi(req, res);
  res.status = 404;
  res.end("Not Found\n");
};
const handler = process.env.BENCH_ROUTER === "0" ? plain : new Router().get("/hi", hi).handler;
// The command's own serve() options (--quiet: no access log).
const server = await serve({ host: HOST, port: 0, handler });
listening(server.port);
