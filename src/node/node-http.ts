// The one file of src/ that imports node:http, as DESIGN.md allows the
// node:http face: the classes apps expect req and res to be
// (IncomingMessage, ServerResponse), its status and method tables, and the
// module itself, whose createServer and Server the register hook replaces.
// Never its sockets or its parser: the bytes go through simplenet.
import http, { IncomingMessage, METHODS, STATUS_CODES, ServerResponse } from "node:http";

export { IncomingMessage, METHODS, STATUS_CODES, ServerResponse };
export const nodeHttp = http;
