// Latency stamps for the bench workloads: a message's text is `~<send time in µs>~` padded with "x"
// to the wanted size. A subscriber finds deliveries by scanning the raw bytes it receives for
// `~digits~`, whatever the protocol around them (a wizz ROOM frame's JSON or a Redis RESP push):
// user and room names cannot contain "~", so each delivery holds exactly one stamp. Scanning bytes
// instead of parsing every frame keeps the load generator cheap, so it measures the server, not
// itself.
const TILDE = 0x7e;

/** Microseconds on this process's monotonic clock (publisher and subscriber share a process). */
export const nowMicros = (): number => Math.round(performance.now() * 1000);

/** A message text of `size` characters (at least the stamp itself) carrying the send time. */
export function stampedText(size: number): string {
  const stamp = `~${nowMicros()}~`;
  return stamp.length >= size ? stamp : stamp + 'x'.repeat(size - stamp.length);
}

/** Counts stamps across chunks cut at any byte; calls onStamp(latency in ms) for each. */
export class StampScanner {
  private inStamp = false;
  private value = 0;

  constructor(private readonly onStamp: (latencyMs: number) => void) {}

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      if (!this.inStamp) {
        i = chunk.indexOf(TILDE, i); // native search between stamps
        if (i < 0) return;
        this.inStamp = true;
        this.value = 0;
        continue;
      }
      const b = chunk[i]!;
      if (b === TILDE) {
        this.inStamp = false;
        this.onStamp((nowMicros() - this.value) / 1000);
      } else if (b >= 0x30 && b <= 0x39) {
        this.value = this.value * 10 + (b - 0x30);
      } else {
        this.inStamp = false; // not a stamp after all
      }
    }
  }
}
