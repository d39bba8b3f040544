/**
 * /metrics on a listener of its own (--metrics-host/--metrics-port, issue 12 item 10), so
 * Prometheus can scrape on an internal address while the API faces clients. Plain HTTP, GET
 * /metrics only; in a cluster it runs in the primary and renders every worker's series.
 */
import { createServer, type Server } from 'node:http';

/** Where the metrics text comes from. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

/** Creates the metrics listener (not yet listening). */
export function createMetricsServer(source: MetricsSource): Server {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    source.render().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': source.contentType });
        res.end(text);
      },
      () => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('metrics unavailable\n');
      },
    );
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  server.maxConnections = 100;
  return server;
}

/** Starts `server` on host:port; resolves to the port it listens on. */
export function listenMetrics(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
