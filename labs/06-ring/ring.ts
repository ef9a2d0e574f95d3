// A single-producer/single-consumer ring of fixed-size slots on a SharedArrayBuffer.
// One thread only pushes, one thread only pops, so no lock is needed: each side owns one index
// (the producer writes `tail`, the consumer writes `head`) and reads the other's with Atomics.load.
//
// Layout (bytes):  0: capacity, slotBytes   64: head   128: tail   192: slots
// head and tail sit on different 64-byte cache lines so the two threads don't fight over one line
// ("false sharing"). Each slot is a 4-byte length followed by up to slotBytes payload bytes.

export const CONFIG_BYTE = 0;
export const HEAD_BYTE = 64;
export const TAIL_BYTE = 128;
export const SLOTS_BYTE = 192;

const HEAD = HEAD_BYTE / 4;
const TAIL = TAIL_BYTE / 4;

/** Wakes a sleeping consumer. Producers ring it; the consumer waits on it with Atomics.waitAsync. */
export class Doorbell {
  readonly word: Int32Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(64)) {
    this.word = new Int32Array(sab, 0, 1);
  }

  /** How many times it has rung; read it *before* checking for work, wait on that value. */
  read(): number {
    return Atomics.load(this.word, 0);
  }

  ring(): void {
    Atomics.add(this.word, 0, 1);
    Atomics.notify(this.word, 0);
  }
}

export class SpscRing {
  readonly capacity: number;
  readonly slotBytes: number;
  readonly i32: Int32Array;
  readonly bytes: Uint8Array;
  private readonly mask: number;
  private readonly stride: number;

  /** Bytes a ring of this shape needs. */
  static byteLength(capacity: number, slotBytes: number): number {
    return SLOTS_BYTE + capacity * strideOf(slotBytes);
  }

  /** Allocates the shared memory of a new, empty ring. Capacity must be a power of two. */
  static create(capacity: number, slotBytes: number, doorbell?: Doorbell): SpscRing {
    if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`capacity must be a power of two, got ${capacity}`);
    }
    if (!Number.isInteger(slotBytes) || slotBytes < 1) throw new RangeError(`slotBytes must be ≥ 1, got ${slotBytes}`);
    const sab = new SharedArrayBuffer(SpscRing.byteLength(capacity, slotBytes));
    const config = new Int32Array(sab, CONFIG_BYTE, 2);
    config[0] = capacity;
    config[1] = slotBytes;
    return new SpscRing(sab, doorbell);
  }

  /** A view of an existing ring (e.g. in another thread, from the SharedArrayBuffer it was sent). */
  constructor(readonly sab: SharedArrayBuffer, readonly doorbell?: Doorbell) {
    this.i32 = new Int32Array(sab);
    this.bytes = new Uint8Array(sab);
    this.capacity = this.i32[0]!;
    this.slotBytes = this.i32[1]!;
    this.mask = this.capacity - 1;
    this.stride = strideOf(this.slotBytes);
  }

  /** Messages waiting. Head and tail are free-running counters; their difference survives wrap-around. */
  get size(): number {
    // TODO: the number of messages waiting. Must hold after any mix of pushes and pops, and also
    // once the counters have wrapped past 2^31 (a grader starts them at 0x7ffffffe).
    throw new Error('TODO: SpscRing.size');
  }

  /**
   * Producer only. Claims the next slot, lets `fill` write the message in place (it returns the
   * length it wrote), then publishes it. Returns false, writing nothing, when the ring is full.
   */
  pushWith(fill: (slot: Uint8Array) => number): boolean {
    // TODO. What must hold (the graders check each one):
    //  - a full ring refuses: false, nothing written, nothing overwritten; exactly `capacity` fit;
    //  - `fill` writes the payload in place after the slot's 4-byte length word, and the length it
    //    returns (0..slotBytes, anything else is a RangeError) is what popWith later hands out;
    //  - publication: a consumer on another thread never sees a message before all of its bytes
    //    are written (a grader reads `size` from inside `fill`);
    //  - only the producer stores `tail`, only the consumer stores `head`; read the other side's
    //    index with Atomics;
    //  - with a doorbell attached, ring it when this push made the ring non-empty, not on every
    //    push, and never leave a consumer asleep on a non-empty ring (hint 3).
    // this.slotOffset(index) finds a slot; this.i32 and this.bytes view the same memory.
    throw new Error('TODO: SpscRing.pushWith');
  }

  /** Producer only. Copies `message` into the next slot; false when the ring is full. */
  push(message: Uint8Array): boolean {
    if (message.length > this.slotBytes) {
      throw new RangeError(`message of ${message.length} bytes does not fit a ${this.slotBytes}-byte slot`);
    }
    return this.pushWith((slot) => {
      slot.set(message);
      return message.length;
    });
  }

  /**
   * Consumer only. Lets `read` look at the oldest message in place, then frees its slot.
   * Returns false when the ring is empty. `read` must copy what it keeps: the slot is reused.
   */
  popWith(read: (message: Uint8Array) => void): boolean {
    // TODO. What must hold: an empty ring returns false without calling `read`; otherwise `read`
    // sees the oldest message in place (exactly the bytes and length pushed), and its slot goes
    // back to the producer only after `read` has returned (a grader pushes from inside `read` into
    // a full ring and expects a refusal).
    throw new Error('TODO: SpscRing.popWith');
  }

  /** Consumer only. The oldest message as a copy, or null when the ring is empty. */
  pop(): Uint8Array | null {
    let out: Uint8Array | null = null;
    this.popWith((message) => {
      out = message.slice();
    });
    return out;
  }

  /** Producer in a worker thread only: sleep until the consumer frees a slot (or timeoutMs). */
  waitForSpace(timeoutMs: number): void {
    const head = Atomics.load(this.i32, HEAD);
    if (((this.i32[TAIL]! - head) | 0) < this.capacity) return;
    Atomics.wait(this.i32, HEAD, head, timeoutMs);
  }

  private slotOffset(index: number): number {
    return SLOTS_BYTE + (index & this.mask) * this.stride;
  }
}

function strideOf(slotBytes: number): number {
  return 4 + Math.ceil(slotBytes / 4) * 4;
}
