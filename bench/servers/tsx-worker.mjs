// The entry of a benchmark server's worker threads: Node 20 does not run
// `--import tsx` in worker threads, so this registers tsx itself, then runs
// the TypeScript file the main thread named in BENCH_WORKER_ENTRY.
import { register } from "tsx/esm/api";

register();
await import(process.env.BENCH_WORKER_ENTRY);
