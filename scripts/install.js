// The package's install step: nothing to do where a prebuilt binary in
// prebuilds/ loads on this platform (linux-x64 and linux-arm64 with glibc,
// see scripts/prebuild.sh); elsewhere, or with npm's --build-from-source,
// the addon is compiled here (scripts/build-addon.js: node-gyp against the
// local Node's headers, which needs a C++ compiler).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);

/** Why the prebuilt binary cannot be used here, or null when it loads. */
function prebuiltUnusable() {
  if (process.env.npm_config_build_from_source === "true") return "--build-from-source";
  try {
    // node-gyp-build's own choice, with build/ out of it: only what the package carries.
    const file = require("node-gyp-build").path(root);
    if (!file.includes("/prebuilds/")) return "a build of its own is in build/";
    require(file);
    return null;
  } catch (error) {
    return error.message.split("\n")[0];
  }
}

const why = prebuiltUnusable();
if (why === null) process.exit(0);
console.log(`simplenet: no prebuilt addon for ${process.platform}-${process.arch} here (${why}); compiling it from source`);
const result = spawnSync(process.execPath, [fileURLToPath(new URL("build-addon.js", import.meta.url))], { stdio: "inherit", cwd: root });
if (result.status !== 0) {
  console.error("simplenet: compiling the addon failed (above). It needs a C++ compiler, make and python3; " +
    "linux-x64 and linux-arm64 with glibc need none of them, they get a prebuilt binary.");
}
process.exit(result.status ?? 1);
