// Deterministic interleavings for lock-free code, in the spirit of Rust's loom and Java's jcstress:
// instead of hoping that two real threads meet in a window nanoseconds wide, a grader runs one
// side's operation on the main thread and stops it before each of its Atomics calls on the shared
// memory — a *step* — to let the other side act right there. Trying every step in turn enumerates
// every point at which the other thread could have run, on any machine, every time.
//
// Plain reads and writes of a typed array cannot be intercepted, so a step is an Atomics call; the
// write log (`AtomicWrite`) shows the other half: a shared index that changed although no Atomics
// call wrote it was published with a plain store, which x86 forgives and the memory model does not.

/** The Atomics calls that are steps (waitAsync is left alone: code keeps its own reference to it). */
const STEP_OPS = ['load', 'store', 'add', 'sub', 'and', 'or', 'xor', 'exchange', 'compareExchange', 'notify', 'wait'] as const;
const WRITE_OPS = new Set(['store', 'add', 'sub', 'and', 'or', 'xor', 'exchange', 'compareExchange']);

export interface AtomicStep {
  op: (typeof STEP_OPS)[number];
  /** Byte offset in the SharedArrayBuffer of the word the call touches. */
  byte: number;
  buffer: SharedArrayBuffer;
}

type AtomicsFn = (array: { buffer: ArrayBufferLike; byteOffset: number; BYTES_PER_ELEMENT: number }, index: number, ...rest: unknown[]) => unknown;

/**
 * Runs `body` with every Atomics call on `buffers` reported to `onStep` just before it happens,
 * and returns body's result with the log of those calls. While onStep runs, reporting is off: what
 * it does stands for the other thread, whose steps are not the ones being interleaved.
 */
export function withAtomicSteps<T>(buffers: SharedArrayBuffer[], onStep: (step: AtomicStep, n: number) => void, body: () => T): { result: T; steps: AtomicStep[] } {
  const watched = new Set<ArrayBufferLike>(buffers);
  const steps: AtomicStep[] = [];
  const originals = new Map<string, AtomicsFn>();
  const atomics = Atomics as unknown as Record<string, AtomicsFn>;
  let inside = false;
  for (const op of STEP_OPS) {
    const original = atomics[op]!;
    originals.set(op, original);
    atomics[op] = function (array, index, ...rest) {
      if (!inside && watched.has(array.buffer)) {
        if (op === 'wait') {
          throw new Error('Atomics.wait was called on the main thread: it blocks the event loop (and this grader) until another thread notifies. The reactor waits with Atomics.waitAsync.');
        }
        const step: AtomicStep = { op, byte: array.byteOffset + index * array.BYTES_PER_ELEMENT, buffer: array.buffer as SharedArrayBuffer };
        inside = true;
        try {
          onStep(step, steps.length);
        } finally {
          inside = false;
        }
        steps.push(step);
      }
      return original.call(Atomics, array, index, ...rest);
    };
  }
  try {
    return { result: body(), steps };
  } finally {
    for (const [op, original] of originals) atomics[op] = original;
  }
}

/** Whether the log holds an Atomics write to the word at `byte` of `buffer`. */
export function atomicallyWritten(steps: AtomicStep[], buffer: SharedArrayBuffer, byte: number): boolean {
  return steps.some((s) => s.buffer === buffer && s.byte === byte && WRITE_OPS.has(s.op));
}

/** One line per step, for a failure message: "0 load @64, 1 store @128 ← here". */
export function describeSteps(steps: AtomicStep[], names: (s: AtomicStep) => string, at: number): string {
  const lines = steps.map((s, i) => `${i === at ? '→' : ' '} step ${i}: Atomics.${s.op}(${names(s)})`);
  if (at >= steps.length) lines.push(`→ after the last step`);
  return lines.join('\n');
}
