/**
 * The request metrics (src/server/metrics.ts) accumulate in plain numbers and hand them to
 * prom-client at scrape time; what /metrics shows must be exactly what prom-client's own Counter
 * and Histogram show for the same requests, as text and as the JSON a cluster worker sends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS, Metrics } from '../../src/server/metrics';

/** prom-client's own metrics, fed the classic way (a labels() child per call). */
function reference(labels: Record<string, string>): { registry: Registry; record(op: string, status: number, seconds: number): void } {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  const requests = new Counter({ name: 'keyhold_requests_total', help: 'API requests by operation and HTTP status', labelNames: ['operation', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'keyhold_request_duration_seconds', help: 'API request latency', labelNames: ['operation'], buckets: [...LATENCY_BUCKETS], registers: [registry] });
  return {
    registry,
    record(op, status, seconds) {
      requests.labels(op, String(status)).inc();
      latency.labels(op).observe(seconds);
    },
  };
}

/** A deterministic spread of latencies, bucket bounds and values past the largest included. */
function* requests(n: number): Generator<[string, number, number]> {
  const ops = ['Encrypt', 'Decrypt', 'GenerateDataKey', 'unknown'];
  const statuses = [200, 200, 200, 400, 403, 500, 503];
  let x = 7;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const seconds = i % 11 === 0 ? (LATENCY_BUCKETS[i % LATENCY_BUCKETS.length] as number) : i % 13 === 0 ? 3.5 : (x % 2_000_000) / 1e6;
    yield [ops[x % ops.length] as string, statuses[i % statuses.length] as number, seconds];
  }
}

test('metrics text and JSON equal prom-client Counter and Histogram for the same requests, across scrapes', async () => {
  const labels = { worker: '3' };
  const ours = new Metrics(labels);
  const ref = reference(labels);
  assert.equal(await ours.render(), await ref.registry.metrics(), 'before any request');
  const all = [...requests(5000)];
  for (const [from, to] of [[0, 1], [1, 2000], [2000, 2000], [2000, 5000]] as const) {
    for (const [op, status, seconds] of all.slice(from, to)) {
      ours.record(op, status, seconds);
      ref.record(op, status, seconds);
    }
    const text = await ours.render();
    assert.equal(text, await ref.registry.metrics(), `text after ${to} requests`);
    assert.deepEqual(await ours.json(), await ref.registry.getMetricsAsJSON(), `JSON after ${to} requests`);
  }
  assert.match(await ours.render(), /^keyhold_request_duration_seconds_bucket\{le="0\.0005",worker="3",operation="Encrypt"\} \d+$/m);
  assert.match(await ours.render(), /^keyhold_requests_total\{operation="Decrypt",status="503",worker="3"\} \d+$/m);
});

test('observe measures from the start time it is given', async () => {
  const m = new Metrics();
  m.observe('Encrypt', 200, process.hrtime.bigint() - 2_000_000_000n);
  const text = await m.render();
  assert.match(text, /^keyhold_request_duration_seconds_bucket\{le="1",operation="Encrypt"\} 0$/m);
  assert.match(text, /^keyhold_request_duration_seconds_bucket\{le="\+Inf",operation="Encrypt"\} 1$/m);
  const sum = Number(/^keyhold_request_duration_seconds_sum\{operation="Encrypt"\} (\S+)$/m.exec(text)?.[1]);
  assert.ok(sum >= 2 && sum < 60, `sum ${sum}`);
  assert.match(text, /^keyhold_requests_total\{operation="Encrypt",status="200"\} 1$/m);
});
