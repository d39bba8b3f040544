/**
 * Prometheus metrics for /metrics: requests by operation and status, and a latency histogram,
 * counted per process and, in a cluster, rendered for all workers together (cluster-metrics.ts).
 *
 * A request only adds to plain numbers of its operation (one Map lookup): prom-client hashes the
 * label set on every `inc`/`observe`, even through a `labels()` child (issue 11, hot path). The
 * counter receives the accumulated counts when it is collected (prom-client's `collect` hook, at
 * every scrape); the histogram is a small metric of our own in the same registry whose values
 * have exactly the shape of prom-client's Histogram (test/server/metrics.test.ts compares both,
 * as text and as the JSON the cluster aggregates).
 */
import cluster from 'node:cluster';
import { Counter, Registry, type Metric } from 'prom-client';
import { clusterMetricsRenderer } from './cluster-metrics';

/** Upper bounds of the latency buckets, in seconds. */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1]);

/** One operation's figures. */
class OperationFigures {
  readonly labels: { readonly operation: string };
  /** Observations per bucket, not cumulative; the last slot holds those above the largest bound. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;
  /** Requests by HTTP status not yet handed to the prom-client counter. */
  readonly pending = new Map<number, number>();

  constructor(operation: string) {
    this.labels = { operation };
  }

  observe(status: number, seconds: number): void {
    this.pending.set(status, (this.pending.get(status) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && !(seconds <= (LATENCY_BUCKETS[i] as number))) i++;
    (this.buckets[i] as number)++;
    this.sum += seconds;
    this.count++;
  }
}

/** A value of prom-client's metric JSON (`MetricObjectWithValues`), as its Histogram writes it. */
interface HistogramValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
  exemplar?: null;
}

/**
 * The latency histogram as a prom-client metric: `get()` (the JSON the cluster aggregates, labels
 * splayed) and `getForPromString()` (the text, the operation as a shared label) give exactly what
 * prom-client's Histogram gives for the same observations.
 */
class LatencyHistogram {
  readonly name = 'keyhold_request_duration_seconds';
  readonly help = 'API request latency';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #figures: Map<string, OperationFigures>;

  constructor(figures: Map<string, OperationFigures>) {
    this.#figures = figures;
  }

  #values(splay: boolean): HistogramValue[] {
    const out: HistogramValue[] = [];
    const bucketName = `${this.name}_bucket`;
    const pair = (labels: Record<string, string | number>, shared: { readonly operation: string }, value: number, metricName: string, exemplar: null | undefined): HistogramValue =>
      splay ? { value, metricName, exemplar, labels: { ...labels, ...shared } } : { labels, sharedLabels: shared, value, metricName, exemplar };
    for (const f of this.#figures.values()) {
      if (f.count === 0) continue;
      let acc = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        acc += f.buckets[i] as number;
        out.push(pair({ le: LATENCY_BUCKETS[i] as number }, f.labels, acc, bucketName, null));
      }
      out.push(pair({ le: '+Inf' }, f.labels, f.count, bucketName, null));
      out.push(pair({}, f.labels, f.sum, `${this.name}_sum`, undefined));
      out.push(pair({}, f.labels, f.count, `${this.name}_count`, undefined));
    }
    return out;
  }

  async get(): Promise<{ name: string; help: string; type: string; values: HistogramValue[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: this.#values(true), aggregator: this.aggregator };
  }

  async getForPromString(): Promise<{ name: string; help: string; type: string; values: HistogramValue[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: this.#values(false), aggregator: this.aggregator };
  }

  reset(): void {
    for (const f of this.#figures.values()) {
      f.buckets.fill(0);
      f.sum = 0;
      f.count = 0;
    }
  }
}

/** Where the audit sink's counts come from (src/audit/sink.ts `stats`). */
export type AuditStats = () => { readonly commits: number; readonly records: number };

/**
 * A counter that takes, at each read, what `total()` (a running total kept elsewhere) has grown by
 * since the last read: nothing is counted per request.
 */
function runningTotal(registry: Registry, name: string, help: string, total: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect(this: Counter) {
      const now = total();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}

/** Request metrics of one process. */
export class Metrics {
  readonly #registry = new Registry();
  readonly #figures = new Map<string, OperationFigures>();
  readonly contentType: string;
  readonly #render: () => Promise<string>;

  constructor(labels: Record<string, string> = {}, audit?: AuditStats) {
    this.#registry.setDefaultLabels(labels);
    this.contentType = this.#registry.contentType;
    const figures = this.#figures;
    new Counter({
      name: 'keyhold_requests_total',
      help: 'API requests by operation and HTTP status',
      labelNames: ['operation', 'status'],
      registers: [this.#registry],
      // Runs before every read of the counter: hands over what requests counted since the last one.
      collect(this: Counter<'operation' | 'status'>) {
        for (const f of figures.values()) {
          for (const [status, n] of f.pending) this.inc({ operation: f.labels.operation, status: String(status) }, n);
          f.pending.clear();
        }
      },
    });
    this.#registry.registerMetric(new LatencyHistogram(figures) as unknown as Metric);
    if (audit !== undefined) {
      // Records per commit (their ratio) is what the trail's cost per request follows (issue 11;
      // docs/performance.md, session 11): each commit costs thread wake-ups and an fdatasync.
      runningTotal(this.#registry, 'keyhold_audit_commits_total', 'Audit commits made durable (one fdatasync or one transaction each)', () => audit().commits);
      runningTotal(this.#registry, 'keyhold_audit_records_total', 'Audit records and intents those commits carried', () => audit().records);
    }
    this.#render = cluster.isWorker ? clusterMetricsRenderer(this.#registry) : () => this.#registry.metrics();
  }

  /** Records one request that started at `startedNs` (process.hrtime.bigint()). */
  observe(operation: string, status: number, startedNs: bigint): void {
    this.record(operation, status, Number(process.hrtime.bigint() - startedNs) / 1e9);
  }

  /** Records one request that took `seconds`. */
  record(operation: string, status: number, seconds: number): void {
    let f = this.#figures.get(operation);
    if (f === undefined) {
      f = new OperationFigures(operation);
      this.#figures.set(operation, f);
    }
    f.observe(status, seconds);
  }

  /** The text of /metrics: every worker's series in a cluster, this process's otherwise. */
  render(): Promise<string> {
    return this.#render();
  }

  /** This process's metrics as prom-client's JSON (what a cluster worker sends the primary). */
  json(): Promise<unknown> {
    return this.#registry.getMetricsAsJSON();
  }
}
