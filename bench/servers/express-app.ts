// The Express app of the node:http-face rows: the routes every app row
// serves (/hi, /json), written as Express users write them. The same file
// runs on node:http, on simplenet's node:http face and on Bun.
import express from "express";
import { PAYLOAD } from "./common.js";

export const app = express();
app.get("/hi", (_req, res) => {
  res.type("text/plain").send("Hi");
});
app.get("/json", (_req, res) => {
  res.json(PAYLOAD);
});
