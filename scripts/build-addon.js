// Builds the shim with node-gyp against the headers of the running Node, so
// the build never downloads them. Where npm's `nodedir` is set, node-gyp uses
// it; otherwise we point it at the headers installed beside the node binary.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";

const args = ["rebuild"];
const installPrefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(installPrefix, "include", "node", "node.h"))) {
  args.push(`--nodedir=${installPrefix}`);
}
// The project's own node-gyp (a devDependency); where simplenet is installed
// as a dependency, the one npm runs its lifecycle scripts with.
let nodeGyp;
try {
  nodeGyp = createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
} catch {
  nodeGyp = process.env.npm_config_node_gyp;
}
if (nodeGyp === undefined) {
  console.error("build-addon: node-gyp not found");
  process.exit(1);
}
const result = spawnSync(process.execPath, [nodeGyp, ...args], { stdio: "inherit" });
process.exit(result.status ?? 1);
