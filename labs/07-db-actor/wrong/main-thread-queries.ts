// mistake: runs the queries right here on the main thread (the Promise makes it look asynchronous, but the loop still freezes)
// replaces: actor.ts
import { ChatStore, type Op } from '#stage/07-db-actor/store.ts';

/** An error that came back from the actor, rebuilt on this side. */
export class DbError extends Error {
  constructor(name: string, message: string, readonly code?: string) {
    super(message);
    this.name = name;
  }
}

/** "Actor" without a thread: every request is answered by the caller's own thread. */
export class DbActor {
  restarts = 0;
  private store: ChatStore;
  private closed = false;

  constructor(readonly file: string) {
    this.store = new ChatStore(file);
  }

  get worker(): { terminate(): Promise<number> } {
    // No worker to kill: simulate a crash by reopening the store.
    return {
      terminate: async () => {
        this.store.close();
        this.store = new ChatStore(this.file);
        this.restarts++;
        return 1;
      },
    };
  }

  async request(op: Op, args: unknown = {}): Promise<unknown> {
    if (this.closed) throw new Error('database actor is closed');
    if (op === 'send') return this.store.transaction(() => this.store.run(op, args));
    return this.store.run(op, args);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.store.close();
  }
}
