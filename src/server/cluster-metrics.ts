/**
 * /metrics for the whole cluster. Each worker counts its own requests; a scrape lands on one
 * worker, which asks the primary, and the primary gathers every worker's registry with
 * prom-client's AggregatorRegistry (counters and histograms summed per label set; the `worker`
 * label keeps each worker's series apart). Without this a scrape would see whichever worker the
 * connection reached, and counters would seem to jump back and forth.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const ASK = 'keyhold:metrics';
const ANSWER = 'keyhold:metrics-answer';
/** How long a worker waits for the primary before answering with its own metrics only. */
const ASK_TIMEOUT_MS = 2_000;

interface Ask {
  readonly type: typeof ASK;
  readonly id: number;
}
interface Answer {
  readonly type: typeof ANSWER;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/**
 * Primary: answers the workers' requests for the cluster's metrics; returns the source the
 * primary's own metrics listener (--metrics-port) renders from.
 */
export function serveClusterMetrics(): { contentType: string; render: () => Promise<string> } {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, m: Partial<Ask>) => {
    if (m?.type !== ASK || typeof m.id !== 'number') return;
    const id = m.id;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id, text } satisfies Answer),
      (e: unknown) => worker.send({ type: ANSWER, id, error: e instanceof Error ? e.message : String(e) } satisfies Answer),
    );
  });
  return { contentType: aggregator.contentType, render: () => aggregator.clusterMetrics() };
}

/**
 * Worker: offers `registry` to the primary's aggregation and returns the function /metrics
 * renders with — the cluster's metrics, or this worker's alone if the primary does not answer.
 */
export function clusterMetricsRenderer(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs the worker's listener for the primary's collection requests
  let next = 1;
  const pending = new Map<number, (a: Answer | undefined) => void>();
  process.on('message', (m: Partial<Answer>) => {
    if (m?.type !== ANSWER || typeof m.id !== 'number') return;
    pending.get(m.id)?.(m as Answer);
  });
  return () =>
    new Promise<Answer | undefined>((resolve) => {
      const id = next++;
      const timer = setTimeout(() => done(undefined), ASK_TIMEOUT_MS);
      const done = (a: Answer | undefined): void => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(a);
      };
      pending.set(id, done);
      process.send?.({ type: ASK, id } satisfies Ask);
    }).then((a) => (a?.text !== undefined ? a.text : registry.metrics()));
}
