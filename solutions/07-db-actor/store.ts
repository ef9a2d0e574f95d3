// The chat database itself: schema, the operations the server needs, and a counted transaction.
// It knows nothing about threads — the synchronous version and the actor's worker both use it.
import Database from 'better-sqlite3';

export type Op = 'send' | 'history' | 'count' | 'slow' | 'stats';

/** Ops that change the database: the actor batches these into one transaction per tick. */
export const WRITE_OPS: ReadonlySet<Op> = new Set<Op>(['send']);

export interface SendArgs { room: string; from: string; text: string }
export interface HistoryArgs { room: string; limit?: number }
export interface ChatRow { id: number; room: string; from: string; text: string }

export class ChatStore {
  readonly db: Database.Database;
  /** Transactions committed through `transaction` — how the graders see your batching. */
  commits = 0;
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly counter: Database.Statement;
  private readonly slowQuery: Database.Statement;

  constructor(file: string) {
    this.db = new Database(file, { timeout: 5000 }); // wait up to 5 s for a lock held by another connection
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS messages (
      id INTEGER PRIMARY KEY, room TEXT NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL)`);
    // A deliberately slow query: SQLite calls back into JS, which spins for `ms` milliseconds.
    this.db.function('busy_wait', (ms: unknown) => {
      const until = performance.now() + Number(ms);
      while (performance.now() < until) {
        // burning the thread that runs the query — on purpose
      }
      return Number(ms);
    });
    this.insert = this.db.prepare('INSERT INTO messages (room, sender, text) VALUES (?, ?, ?)');
    this.select = this.db.prepare('SELECT id, room, sender AS "from", text FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?');
    this.counter = this.db.prepare('SELECT count(*) AS n FROM messages');
    this.slowQuery = this.db.prepare('SELECT busy_wait(?) AS ms');
  }

  /** Runs one operation. Throws (e.g. SqliteError, or Error for an unknown op) on failure. */
  run(op: Op, args: unknown): unknown {
    switch (op) {
      case 'send': {
        const { room, from, text } = args as SendArgs;
        return { id: Number(this.insert.run(room, from, text).lastInsertRowid) };
      }
      case 'history': {
        const { room, limit = 50 } = args as HistoryArgs;
        return (this.select.all(room, limit) as ChatRow[]).reverse();
      }
      case 'count':
        return (this.counter.get() as { n: number }).n;
      case 'slow':
        return (this.slowQuery.get((args as { ms: number }).ms) as { ms: number }).ms;
      case 'stats':
        return { commits: this.commits };
      default:
        throw new Error(`unknown op '${String(op)}'`);
    }
  }

  /** Runs `body` inside one SQLite transaction (BEGIN … COMMIT) and counts the commit. */
  transaction<T>(body: () => T): T {
    const result = this.db.transaction(body)();
    this.commits++;
    return result;
  }

  close(): void {
    this.db.close();
  }
}
