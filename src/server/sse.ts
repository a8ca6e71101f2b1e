// Server-sent events on a raw Node response, with backpressure and disconnect detection.
import type { ServerResponse } from 'node:http';

export class SseWriter {
  private closedByPeer = false;
  readonly closed: Promise<void>;

  constructor(private readonly res: ServerResponse) {
    this.closed = new Promise((resolve) =>
      res.on('close', () => {
        if (!res.writableFinished) this.closedByPeer = true;
        resolve();
      }),
    );
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
  }

  /** True once the client went away. */
  get disconnected(): boolean {
    return this.closedByPeer || this.res.destroyed;
  }

  /** Sends one `data:` event; waits while the socket's buffer is full. */
  async send(data: object | string): Promise<void> {
    if (this.disconnected) return;
    const line = `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
    if (!this.res.write(line)) {
      await Promise.race([new Promise<void>((r) => this.res.once('drain', () => r())), this.closed]);
    }
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
