// What bench:http runs: a scenario (a route under a load) and a server (a
// file of bench/servers/ and the runtime it runs on). Its own file so that
// http.ts and http-profile.ts both read it without importing each other.

export interface Scenario {
  name: string;
  what: string;
  path: string;
  connections: number;
  script?: string;
  headers?: string[];
  /** Server and wrk both on cores 0 and 1, the servers with workers. */
  multi?: boolean;
}

export type Runtime = "node" | "bun" | "deno";
/** Servers are compared within their group: each group's first-named simplenet server against every other one in it. */
export type Group = "own" | "fetch" | "multi" | "express" | "fastify-app";
export interface ServerDef {
  name: string;
  label: string;
  /** The name in a ratio's column heading ("vs uWS.js"). */
  short?: string;
  /** bench/servers/<file>.ts */
  file: string;
  runtime: Runtime;
  group: Group;
  routes?: string[];
  /** How the server sends static-64k's file, shown beside its name in that scenario. */
  static?: string;
  env?: Record<string, string>;
}
