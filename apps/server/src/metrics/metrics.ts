import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** One registry per app instance, so tests can run several apps in one process. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly vacuums: Counter<'result'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'qpc_' });
    this.httpDuration = new Histogram({
      name: 'qpc_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.vacuums = new Counter({
      name: 'qpc_db_vacuums_total',
      help: 'VACUUM statements the server ran on the tables the messenger churns (DB_VACUUM), by result',
      labelNames: ['result'],
      registers: [this.registry],
    });
  }
}
