/** The items of `all` named in a comma-separated `list` (all of them when it is absent), in the list's order. */
export function pick<T extends { name: string }>(all: T[], list: string | undefined, what: string): T[] {
  if (list === undefined) return all.slice();
  return list.split(",").map((name) => {
    const found = all.find((item) => item.name === name);
    if (found === undefined) throw new Error(`unknown ${what} "${name}"; one of: ${all.map((i) => i.name).join(", ")}`);
    return found;
  });
}
