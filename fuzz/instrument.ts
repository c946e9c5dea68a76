// Coverage for a wasm module: every basic-block entry gets a probe that bumps
// its own byte counter in a reserved region of linear memory, so a host can
// see which paths an input took. Like SanitizerCoverage's inline 8-bit
// counters, only for wasm's structured control flow: a probe at each function
// entry, each arm of an `if`, each loop iteration, after each `br_if` that
// falls through, and after each label that branches land on.
import binaryen from "binaryen";

// binaryen.js has these expression wrappers; its index.d.ts does not declare them.
type Ref = number;
interface Wrappers {
  If: { getIfTrue(e: Ref): Ref; setIfTrue(e: Ref, v: Ref): void; getIfFalse(e: Ref): Ref; setIfFalse(e: Ref, v: Ref): void };
  Loop: { getBody(e: Ref): Ref; setBody(e: Ref, v: Ref): void };
  Block: { getChildren(e: Ref): Ref[]; setChildren(e: Ref, v: Ref[]): void; getName(e: Ref): string | null; setName(e: Ref, name: string): void };
  Function: { getBody(f: Ref): Ref; setBody(f: Ref, v: Ref): void };
}
const api = binaryen as typeof binaryen & Wrappers;

export interface Instrumented {
  wasm: Uint8Array;
  /** Number of probes; counter k is the byte at counterBase + k. */
  probes: number;
  counterBase: number;
}

// Children of an expression that are expressions themselves, by field name
// (binaryen's getExpressionInfo). Leaves are skipped: Const's `value` is a
// number, not a child, and some leaves have no info at all.
const CHILD_FIELDS = [
  "condition", "ifTrue", "ifFalse", "body", "value", "ptr", "left", "right", "dest", "source", "size",
  "vec", "shift", "a", "b", "c", "target", "expected", "replacement", "delta",
] as const;
const CHILD_LISTS = ["children", "operands"] as const;
const LEAVES = new Set([binaryen.ConstId, binaryen.NopId, binaryen.UnreachableId, binaryen.LocalGetId, binaryen.GlobalGetId, binaryen.MemorySizeId]);

/**
 * Adds the probes to `wasm`, whose memory must be fixed in size and leave its
 * last `counterBytes` bytes to us (the counters live there).
 */
export function instrument(wasm: Uint8Array, counterBytes = 65536): Instrumented {
  const module = binaryen.readBinary(wasm);
  try {
    module.setFeatures(binaryen.Features.All); // accept whatever the compiler used (SIMD, bulk memory, ...)
    const memory = module.getMemoryInfo();
    if (memory.max !== memory.initial) throw new Error("instrument: memory must have a fixed size");
    const counterBase = memory.initial * 65536 - counterBytes;
    let probes = 0;
    const probe = (): number => {
      if (probes >= counterBytes) throw new Error("instrument: more probes than counters");
      const at = counterBase + probes++;
      const counter = module.i32.load8_u(at, 1, module.i32.const(0));
      return module.i32.store8(at, 1, module.i32.const(0), module.i32.add(counter, module.i32.const(1)));
    };

    const visit = (expr: number): void => {
      if (expr === 0) return;
      const id = binaryen.getExpressionId(expr);
      if (LEAVES.has(id)) return;
      const info = binaryen.getExpressionInfo(expr) as unknown as Record<string, unknown>;
      for (const field of CHILD_FIELDS) {
        const child = info[field];
        if (typeof child === "number") visit(child);
      }
      for (const list of CHILD_LISTS) {
        const children = info[list];
        if (Array.isArray(children)) for (const child of children) visit(child as number);
      }
      if (id === binaryen.IfId) {
        const ifTrue = api.If.getIfTrue(expr);
        api.If.setIfTrue(expr, module.block(null, [probe(), ifTrue], binaryen.auto));
        const ifFalse = api.If.getIfFalse(expr);
        if (ifFalse !== 0) api.If.setIfFalse(expr, module.block(null, [probe(), ifFalse], binaryen.auto));
        else if (binaryen.getExpressionType(expr) === binaryen.none) api.If.setIfFalse(expr, probe());
      } else if (id === binaryen.LoopId) {
        const body = api.Loop.getBody(expr);
        api.Loop.setBody(expr, module.block(null, [probe(), body], binaryen.auto));
      } else if (id === binaryen.BlockId) {
        instrumentBlock(expr);
      }
    };

    // A br_if that falls through starts a new block; so does the end of a
    // label that branches target. Both are rewritten in place, since the
    // parent of a block is not known here.
    const instrumentBlock = (block: number): void => {
      const children = api.Block.getChildren(block);
      const rewritten: number[] = [];
      for (const child of children) {
        rewritten.push(child);
        if (isFallthroughBrIf(child)) rewritten.push(probe());
      }
      const name = api.Block.getName(block);
      if (name && binaryen.getExpressionType(block) === binaryen.none) {
        // (block $l ...) becomes (block $l' (block $l ...) probe): same label, code after it counted.
        const inner = module.block(name, rewritten, binaryen.none);
        api.Block.setName(block, `${name}$probe`);
        api.Block.setChildren(block, [inner, probe()]);
      } else if (rewritten.length !== children.length) {
        api.Block.setChildren(block, rewritten);
      }
    };

    for (let f = 0; f < module.getNumFunctions(); f++) {
      const fn = module.getFunctionByIndex(f);
      const body = api.Function.getBody(fn);
      if (body === 0) continue; // imported
      visit(body);
      api.Function.setBody(fn, module.block(null, [probe(), body], binaryen.getExpressionType(body)));
    }
    if (!module.validate()) throw new Error("instrument: the instrumented module does not validate");
    return { wasm: module.emitBinary(), probes, counterBase };
  } finally {
    module.dispose();
  }
}

function isFallthroughBrIf(expr: number): boolean {
  if (binaryen.getExpressionId(expr) !== binaryen.BreakId) return false;
  const info = binaryen.getExpressionInfo(expr) as binaryen.BreakInfo;
  return info.condition !== 0 && info.value === 0;
}
