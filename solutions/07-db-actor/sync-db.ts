// The version to move away from: the server calls SQLite directly on its event-loop thread.
// Every query, however slow, freezes every connection of this reactor until it returns.
import { ChatStore, type Op } from './store.ts';

export class SyncChatDb {
  private readonly store: ChatStore;

  constructor(file: string) {
    this.store = new ChatStore(file);
  }

  /** Same shape as the actor's request(), but the work happens right here, synchronously. */
  async request(op: Op, args: unknown = {}): Promise<unknown> {
    return this.store.run(op, args);
  }

  close(): void {
    this.store.close();
  }
}
