// A TCP relay between clients and a server whose connections a test can cut at once, as a network
// drop would: both legs close, the server sees its client go, the client sees its server go.
import net from 'node:net';

export interface Relay {
  port: number;
  /** Connections relayed now. */
  readonly open: number;
  /** Destroys every relayed connection (both legs). */
  cut(): void;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<Relay> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((down) => {
    const up = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [down, up];
    pairs.add(pair);
    for (const s of pair) {
      s.on('error', () => {});
      s.on('close', () => {
        pairs.delete(pair);
        down.destroy();
        up.destroy();
      });
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    for (const [down, up] of pairs) {
      down.destroy();
      up.destroy();
    }
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    get open() {
      return pairs.size;
    },
    cut,
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
