// A TCP relay on 127.0.0.1 in front of the API server that counts the bytes each way: what a client received from the
// API server is measured on the wire (TLS records, handshake included), whatever the client does with it.
import net from 'node:net';

export class ByteCounter {
  /** Bytes from the API server to the clients, and from the clients to it. */
  received = 0;
  sent = 0;
  connections = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  readonly ready: Promise<number>;

  constructor(target: URL) {
    this.server = net.createServer((client) => {
      this.connections++;
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      upstream.on('data', (chunk: Buffer) => (this.received += chunk.length));
      client.on('data', (chunk: Buffer) => (this.sent += chunk.length));
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.ready = new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port));
    });
  }

  /** The API server's URL through this relay (same scheme and path; the certificate names 127.0.0.1, any port). */
  async url(): Promise<string> {
    return `https://127.0.0.1:${await this.ready}`;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}
