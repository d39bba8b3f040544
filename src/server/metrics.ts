/**
 * Prometheus metrics for /metrics: requests by operation and status, and a latency histogram,
 * counted per process (observing is two map lookups on the hot path) and, in a cluster, rendered
 * for all workers together (cluster-metrics.ts).
 */
import cluster from 'node:cluster';
import { Counter, Histogram, Registry } from 'prom-client';
import { clusterMetricsRenderer } from './cluster-metrics';

/** Request metrics of one process. */
export class Metrics {
  readonly #registry = new Registry();
  readonly #requests: Counter<'operation' | 'status'>;
  readonly #latency: Histogram<'operation'>;
  readonly contentType: string;
  readonly #render: () => Promise<string>;
  /**
   * Label children resolved once per (operation, status) and operation: prom-client's labels()
   * builds a key string and looks it up on every call (issue 11, hot path).
   */
  readonly #counts = new Map<string, { inc(): void }>();
  readonly #timings = new Map<string, { observe(v: number): void }>();

  constructor(labels: Record<string, string> = {}) {
    this.#registry.setDefaultLabels(labels);
    this.contentType = this.#registry.contentType;
    this.#requests = new Counter({
      name: 'keyhold_requests_total',
      help: 'API requests by operation and HTTP status',
      labelNames: ['operation', 'status'],
      registers: [this.#registry],
    });
    this.#latency = new Histogram({
      name: 'keyhold_request_duration_seconds',
      help: 'API request latency',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
      registers: [this.#registry],
    });
    this.#render = cluster.isWorker ? clusterMetricsRenderer(this.#registry) : () => this.#registry.metrics();
  }

  /** Records one request that started at `startedNs` (process.hrtime.bigint()). */
  observe(operation: string, status: number, startedNs: bigint): void {
    const key = `${operation}\0${status}`;
    let count = this.#counts.get(key);
    if (count === undefined) {
      count = this.#requests.labels(operation, String(status));
      this.#counts.set(key, count);
    }
    count.inc();
    let timing = this.#timings.get(operation);
    if (timing === undefined) {
      timing = this.#latency.labels(operation);
      this.#timings.set(operation, timing);
    }
    timing.observe(Number(process.hrtime.bigint() - startedNs) / 1e9);
  }

  /** The text of /metrics: every worker's series in a cluster, this process's otherwise. */
  render(): Promise<string> {
    return this.#render();
  }
}
