import { Agent, request } from 'node:http';

export interface HttpResult {
  status: number;
  body: Buffer;
}

/**
 * A keep-alive HTTP/1.1 client on node:http: lighter than fetch, so on a small machine the
 * load generator takes as little CPU as possible from the server it measures.
 */
export class BenchHttpClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(
    url: string,
    private readonly apiKey: string,
    sockets: number,
  ) {
    this.base = new URL(url);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  send(method: string, path: string, json?: string): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { authorization: `Bearer ${this.apiKey}` };
      if (json !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(json);
      }
      const req = request({ host: this.base.hostname, port: this.base.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(json);
    });
  }

  /** Sends and fails on any status other than `expect`, quoting the server's error. */
  async expect(method: string, path: string, json: string | undefined, expect: number): Promise<Buffer> {
    const res = await this.send(method, path, json);
    if (res.status !== expect) {
      throw new Error(`${method} ${path} answered ${res.status}: ${res.body.toString('utf8').slice(0, 500)}`);
    }
    return res.body;
  }

  close(): void {
    this.agent.destroy();
  }
}
