import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ServerConfig } from '../config/config.js';
import { Metrics } from '../metrics/metrics.js';

/** The tables every message leaves dead rows in: its queue row (at the ack), its queue head's old versions, its idempotency key (at the prune). */
export const CHURNED_TABLES = ['queued_message', 'queue_head', 'send_key'] as const;
export type ChurnedTable = (typeof CHURNED_TABLES)[number];

/** One row, `runs`: whether the database vacuums by itself (autovacuum on, and its launcher running). */
export const AUTOVACUUM_RUNS_SQL = `SELECT current_setting('autovacuum') = 'on' AND EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'autovacuum launcher') AS runs`;

/**
 * VACUUM of the tables the messenger churns, for databases that do not vacuum them themselves.
 *
 * Every delivered message is a row inserted and deleted in `queued_message`, two updated versions
 * of its queue's `queue_head` row and a `send_key` row that is pruned after the idempotency window. PostgreSQL reuses
 * the space of dead rows only after a vacuum. The embedded database (PGlite) runs PostgreSQL in
 * single-user mode, which has no autovacuum, and a PostgreSQL can run with `autovacuum = off`.
 * Without a vacuum the tables and their indexes grow by every message ever sent: on disk without
 * bound, and in an embedded database held in memory (tests, benchmarks) each growth of a table's
 * file copies the whole file, a stall of every query that grows with the table (26 ms after 7 000
 * messages, 102 ms after 30 000, in one measured loop; none with a vacuum every 2 000).
 *
 * `DB_VACUUM=auto` (the default) turns this on when the database shows no autovacuum launcher
 * in `pg_stat_activity`; `on` and `off` decide it outright. When on, the rows that die in each of
 * these tables are counted (queue rows and queue-head versions as messages are written, keys as
 * the prune deletes them), and after `DB_VACUUM_AFTER_ROWS` of them the table gets a plain
 * VACUUM: small, frequent vacuums, each over the few pages written since the last one, which
 * also keep the planner's page and row counts of the table current. No ANALYZE: its sample grows
 * with the table (on `send_key`, which only grows for a week, it took 18 ms and then 78 ms on the
 * embedded database). One VACUUM runs at a time; tables that fall due meanwhile go together.
 */
@Injectable()
export class ChurnVacuum implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('vacuum');
  private active = false;
  private readonly written = new Map<ChurnedTable, number>();
  private readonly due = new Set<ChurnedTable>();
  private running: Promise<void> | null = null;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ServerConfig) private readonly config: ServerConfig,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const mode = this.config.DB_VACUUM;
    this.active = mode === 'on' || (mode === 'auto' && !(await this.autovacuumRuns()));
    this.log.log(this.active ? `vacuuming ${CHURNED_TABLES.join(', ')} every ${this.config.DB_VACUUM_AFTER_ROWS} dead rows (DB_VACUUM=${mode})` : `left to the database's autovacuum (DB_VACUUM=${mode})`);
  }

  async onModuleDestroy(): Promise<void> {
    this.active = false;
    while (this.running) await this.running;
  }

  /** `rows` rows of `table` became dead, or will (a queue row written now is deleted at its ack). */
  wrote(table: ChurnedTable, rows: number): void {
    if (!this.active || rows <= 0) return;
    const n = (this.written.get(table) ?? 0) + rows;
    if (n < this.config.DB_VACUUM_AFTER_ROWS) {
      this.written.set(table, n);
      return;
    }
    this.written.set(table, 0);
    this.due.add(table);
    this.next();
  }

  private next(): void {
    if (this.running || this.due.size === 0 || !this.active) return;
    // Names from the fixed list above, never from input.
    const tables = CHURNED_TABLES.filter((t) => this.due.has(t));
    this.due.clear();
    this.running = this.ds
      .query(`VACUUM ${tables.join(', ')}`)
      .then(
        () => this.metrics.vacuums.inc({ result: 'ok' }),
        // A vacuum that fails (a pool closing at shutdown, a role that may not vacuum) loses nothing; the next one tries again.
        (e: unknown) => {
          this.metrics.vacuums.inc({ result: 'failed' });
          this.log.warn(`VACUUM ${tables.join(', ')} failed: ${(e as Error).message}`);
        },
      )
      .finally(() => {
        this.running = null;
        this.next();
      });
  }

  private async autovacuumRuns(): Promise<boolean> {
    const rows: { runs: boolean }[] = await this.ds.query(AUTOVACUUM_RUNS_SQL);
    return rows[0]?.runs === true;
  }
}
