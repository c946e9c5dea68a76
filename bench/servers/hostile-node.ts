// node:http for bench:hostile (its HTTP attacks): the shared routes, with
// server.maxConnections set; every deadline is node:http's default.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HOST, MAX_CONNECTIONS, listening, nodeRoutes, note } from "./hostile-common.js";

const server = createServer(nodeRoutes);
server.maxConnections = MAX_CONNECTIONS;
note(`node:http: maxConnections ${MAX_CONNECTIONS}, deadlines default`);
server.listen(0, HOST, () => listening((server.address() as AddressInfo).port));
