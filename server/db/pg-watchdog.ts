// A progress timeout for a pipelined connection. pg's query_timeout starts each query's clock when
// the query is queued, so in a pipeline of thousands of statements the last ones would time out
// on a server that is merely busy. What we want to detect is a server that answers nothing: the
// watchdog destroys the connection when `ms` pass without any answer while a query is
// outstanding, which fails every query still waiting on it.
import type pg from 'pg';

export class Watchdog {
  private outstanding = 0;
  private answers = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly client: pg.ClientBase,
    private readonly ms: number,
  ) {}

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(query: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const answer = typeof query === 'string' ? this.client.query<R>(query, values) : this.client.query<R>(query);
    this.outstanding++;
    this.arm();
    const progress = () => {
      this.outstanding--;
      this.answers++;
      this.arm(); // an answer: the server is alive, the clock starts again
    };
    answer.then(progress, progress);
    return answer;
  }

  /** The connection is handed back: no more watching. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || this.outstanding === 0) return;
    this.timer = setTimeout(() => {
      // Timers run before the loop reads sockets: if this process itself was busy (submitting a
      // big pipeline, a GC pause), answers may be waiting unread. Judge after one read phase.
      const seen = this.answers;
      setImmediate(() => {
        if (this.stopped || this.outstanding === 0 || this.answers !== seen) return;
        // A pooled client is a pg.Client; its types only hide the connection.
        (this.client as unknown as pg.Client).connection.stream.destroy(new Error(`PostgreSQL answered nothing for ${this.ms} ms`));
      });
    }, this.ms);
  }
}
