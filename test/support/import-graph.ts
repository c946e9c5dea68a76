// The import graph of the project's TypeScript: which files each file
// imports (type-only imports included, since a circle of types is still a
// circle a reader must hold in mind), and the circles in it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** The specifiers a file's text imports or re-exports, statically or dynamically. */
export function specifiers(text: string, withTypes = true): string[] {
  const code = text.replace(/^\s*(\/\/.*|\*.*|\/\*.*)$/gm, "");
  const found: string[] = [];
  const statics = withTypes
    ? /^\s*(?:import|export)\s+(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/gm
    : /^\s*(?:import|export)\s+(?!type\s)(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/gm;
  for (const m of code.matchAll(statics)) found.push(m[1]);
  for (const m of code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]);
  return found;
}

/** Every .ts file under `dir` (declaration files and the folders named in `skip` left out), as absolute paths. */
export function tsFilesUnder(dir: string, skip: readonly string[] = ["node_modules", ".peers", "build"]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!skip.includes(name)) out.push(...tsFilesUnder(path, skip));
    } else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

/** File → the files of `files` it imports by relative path (a ".js" specifier names its ".ts" source). */
export function importGraph(files: readonly string[], read = (f: string): string => readFileSync(f, "utf8")): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets: string[] = [];
    for (const spec of specifiers(read(file))) {
      if (!spec.startsWith(".")) continue;
      // AssemblyScript names a file without its extension.
      const named = spec.replace(/\.js$/, ".ts");
      const target = resolve(dirname(file), named.endsWith(".ts") ? named : `${named}.ts`);
      if (known.has(target)) targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** The circles of a graph: each set of nodes that reach one another (Tarjan's strongly connected components), a node that imports itself included. */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const members: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== node);
    if (members.length > 1 || graph.get(node)?.includes(node)) found.push(members.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** A path relative to `root`, for messages. */
export const shortName = (root: string, file: string): string => relative(root, file);
