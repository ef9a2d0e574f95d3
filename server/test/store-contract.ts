// What every store behind `send(call)` must do, whatever the engine: the SQLite actor (DbActor) and
// PgStore are held to the same expectations by running this one list against each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbCall, DbResult, StoreResult } from '../db/ops.ts';
import type { StoredMessage } from '../router/router.ts';
import { LinkError } from '../router/link.ts';
import { uniqueUser } from '../testing/helpers.ts';

export interface ContractStore {
  send(call: DbCall): Promise<unknown>;
  close(): Promise<void>;
}

/** Every ASCII control character (U+0000 included), an emoji and a non-BMP CJK character. */
const AWKWARD_TEXT = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u007f é 😀 𠀋 "\'\\';

export function describeStoreContract(name: string, open: () => Promise<ContractStore>): void {
  describe(`the store contract: ${name}`, () => {
    let store: ContractStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => store?.close());

    // Typed shorthands over send(): the contract speaks DbCall like the switchboard does.
    const createUser = (user: string, hash = `hash-of-${user}`) => store.send({ op: 'createUser', args: [user, hash] });
    const storeMessage = (from: string, to: string, text: string, key: string | null = null) =>
      store.send({ op: 'storeMessage', args: [from, to, text, key] }) as Promise<StoreResult>;
    const pending = (user: string, limit = 100) => store.send({ op: 'pending', args: [user, limit] }) as Promise<StoredMessage[]>;
    const history = (a: string, b: string, before: number | null = null, limit = 100) =>
      store.send({ op: 'history', args: [a, b, before, limit] }) as Promise<DbResult<'history'>>;
    const markDelivered = (ids: number[]) => store.send({ op: 'markDelivered', args: [ids] });
    async function users(n: number): Promise<string[]> {
      const names = Array.from({ length: n }, () => uniqueUser('c'));
      await Promise.all(names.map((u) => createUser(u)));
      return names;
    }

    it('createUser stores the hash; a taken name is user_taken; unknown users have no hash', async () => {
      const user = uniqueUser('c');
      expect(await createUser(user, 'scrypt$1')).toBeNull();
      await expect(createUser(user, 'scrypt$2')).rejects.toMatchObject({ code: 'user_taken' });
      await expect(createUser(user, 'scrypt$2')).rejects.toBeInstanceOf(LinkError);
      expect(await store.send({ op: 'passwordHash', args: [user] })).toBe('scrypt$1');
      expect(await store.send({ op: 'passwordHash', args: [uniqueUser('nobody')] })).toBeNull();
      expect(await store.send({ op: 'userExists', args: [user] })).toBe(true);
      expect(await store.send({ op: 'userExists', args: [uniqueUser('nobody')] })).toBe(false);
    });

    it('storeMessage gives increasing msgIds (numbers) and timestamps that never go backwards; an unknown recipient is no_such_user', async () => {
      const [a, b] = await users(2);
      const results: StoreResult[] = [];
      for (let i = 0; i < 5; i++) results.push(await storeMessage(a!, b!, `m${i}`));
      for (const r of results) {
        expect(typeof r.msgId).toBe('number');
        expect(typeof r.ts).toBe('number');
        expect(r.first).toBe(true);
      }
      for (let i = 1; i < results.length; i++) {
        expect(results[i]!.msgId).toBeGreaterThan(results[i - 1]!.msgId);
        expect(results[i]!.ts).toBeGreaterThanOrEqual(results[i - 1]!.ts);
      }
      expect(Math.abs(results[0]!.ts - Date.now())).toBeLessThan(60_000);
      await expect(storeMessage(a!, uniqueUser('nobody'), 'hello?')).rejects.toMatchObject({ code: 'no_such_user' });
    });

    it('a text with every control character (NUL too), emoji and astral characters comes back unchanged', async () => {
      const [a, b] = await users(2);
      const { msgId } = await storeMessage(a!, b!, AWKWARD_TEXT, `key-${AWKWARD_TEXT}`.slice(0, 60));
      expect((await pending(b!)).map((m) => [m.msgId, m.text])).toEqual([[msgId, AWKWARD_TEXT]]);
      expect((await history(a!, b!)).map((m) => m.text)).toEqual([AWKWARD_TEXT]);
    });

    it('the same idempotency key twice stores one message and answers the stored message with first: false', async () => {
      const [a, b, c] = await users(3);
      const first = await storeMessage(a!, b!, 'once', 'k-1');
      expect(first).toEqual({ msgId: first.msgId, from: a, to: b, text: 'once', ts: first.ts, first: true });
      const again = await storeMessage(a!, b!, 'once', 'k-1');
      expect(again).toEqual({ msgId: first.msgId, from: a, to: b, text: 'once', ts: first.ts, first: false });
      // Keys belong to their sender: c may use the same key.
      const other = await storeMessage(c!, b!, 'mine', 'k-1');
      expect(other.first).toBe(true);
      expect(other.msgId).not.toBe(first.msgId);
      expect((await history(a!, b!)).map((m) => m.text)).toEqual(['once']);
      // Twice within one batch (one transaction): still one message.
      const [x, y] = await Promise.all([storeMessage(a!, b!, 'twin', 'k-2'), storeMessage(a!, b!, 'twin', 'k-2')]);
      expect([x.first, y.first].sort()).toEqual([false, true]);
      expect(y).toEqual({ ...x, first: y.first });
      expect((await history(a!, b!)).map((m) => m.text)).toEqual(['twin', 'once']);
    });

    it('a key used again with another text or recipient is key_reused and stores nothing; the first message stays as it was', async () => {
      const [a, b, c] = await users(3);
      const first = await storeMessage(a!, b!, 'the original', 'k-1');
      await expect(storeMessage(a!, b!, 'a disguise', 'k-1')).rejects.toMatchObject({ code: 'key_reused' });
      await expect(storeMessage(a!, c!, 'the original', 'k-1')).rejects.toMatchObject({ code: 'key_reused' });
      await expect(storeMessage(a!, uniqueUser('nobody'), 'the original', 'k-1')).rejects.toMatchObject({ code: 'key_reused' });
      await expect(storeMessage(a!, b!, 'the original ', 'k-1')).rejects.toBeInstanceOf(LinkError);
      // Texts are compared exactly, in the form they were stored in (NUL and astral characters too).
      const awkward = await storeMessage(a!, b!, AWKWARD_TEXT, 'k-2');
      expect(await storeMessage(a!, b!, AWKWARD_TEXT, 'k-2')).toMatchObject({ msgId: awkward.msgId, text: AWKWARD_TEXT, first: false });
      await expect(storeMessage(a!, b!, AWKWARD_TEXT.slice(1), 'k-2')).rejects.toMatchObject({ code: 'key_reused' });
      // In one batch: the first write under the key wins, the other is refused alone.
      const settled = await Promise.allSettled([
        storeMessage(a!, b!, 'twin one', 'k-3'),
        storeMessage(a!, b!, 'twin two', 'k-3'),
        storeMessage(a!, b!, 'unkeyed'),
      ]);
      expect(settled.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as LinkError).code))).toEqual(['ok', 'key_reused', 'ok']);
      expect((await history(a!, b!)).map((m) => m.text)).toEqual(['unkeyed', 'twin one', AWKWARD_TEXT, 'the original']);
      expect(await history(a!, c!)).toEqual([]);
      expect(await storeMessage(a!, b!, 'the original', 'k-1')).toMatchObject({ msgId: first.msgId, first: false });
    });

    it('pending lists undelivered messages to the user, oldest first, at most limit; markDelivered removes them', async () => {
      const [a, b, c] = await users(3);
      const ids: number[] = [];
      for (let i = 0; i < 4; i++) ids.push((await storeMessage(a!, b!, `p${i}`)).msgId);
      ids.push((await storeMessage(c!, b!, 'from c')).msgId);
      const reply = (await storeMessage(b!, a!, 'not to b')).msgId;
      const listed = await pending(b!);
      expect(listed.map((m) => m.msgId)).toEqual(ids);
      expect(listed[0]).toEqual({ msgId: ids[0], from: a, to: b, text: 'p0', ts: expect.any(Number) });
      expect((await pending(b!, 2)).map((m) => m.msgId)).toEqual(ids.slice(0, 2));
      expect(await markDelivered(ids.slice(0, 3))).toBeNull();
      expect(await markDelivered([ids[0]!, 987_654_321])).toBeNull(); // twice, and an unknown id: no error
      expect((await pending(b!)).map((m) => m.msgId)).toEqual(ids.slice(3));
      // Delivered messages stay in the history.
      expect((await history(a!, b!)).map((m) => m.msgId)).toEqual([reply, ...ids.slice(0, 4).reverse()]);
    });

    it('history: the two users\' messages both ways, newest first, before a msgId, at most limit; an unknown partner is no_such_user', async () => {
      const [a, b, c] = await users(3);
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) ids.push((await (i % 2 === 0 ? storeMessage(a!, b!, `h${i}`) : storeMessage(b!, a!, `h${i}`))).msgId);
      await storeMessage(a!, c!, 'elsewhere');
      const newestFirst = [...ids].reverse();
      expect((await history(a!, b!)).map((m) => m.msgId)).toEqual(newestFirst);
      expect((await history(b!, a!)).map((m) => m.msgId)).toEqual(newestFirst);
      expect((await history(a!, b!, null, 2)).map((m) => m.msgId)).toEqual(newestFirst.slice(0, 2));
      expect((await history(a!, b!, ids[3]!, 2)).map((m) => m.msgId)).toEqual([ids[2], ids[1]]);
      expect(await history(a!, b!, ids[0]!)).toEqual([]);
      const [newest] = await history(b!, a!, null, 1);
      expect(newest).toEqual({ msgId: ids[5], from: b, to: a, text: 'h5', ts: expect.any(Number) });
      await expect(history(a!, uniqueUser('nobody'))).rejects.toMatchObject({ code: 'no_such_user' });
    });

    it('writes of one batch get their own answers: a refused one does not fail the others', async () => {
      const [a, b] = await users(2);
      const fresh = uniqueUser('c');
      const settled = await Promise.allSettled([
        storeMessage(a!, b!, 'before'),
        createUser(a!), // taken
        storeMessage(a!, uniqueUser('nobody'), 'lost'),
        createUser(fresh),
        storeMessage(a!, fresh, 'to the user created just before, in the same batch'),
        storeMessage(a!, b!, 'after'),
      ]);
      expect(settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as LinkError).code))).toEqual([
        'ok',
        'user_taken',
        'no_such_user',
        'ok',
        'ok',
        'ok',
      ]);
      expect((await history(a!, b!)).map((m) => m.text)).toEqual(['after', 'before']);
      expect((await pending(fresh)).map((m) => m.text)).toHaveLength(1);
    });

    it('sessions: a token hash resumes its user until it expires or is revoked (one, or all of the user\'s); setPassword revokes them all', async () => {
      const [a, b] = await users(2);
      const later = Date.now() + 60_000;
      const resume = (hash: string) => store.send({ op: 'resumeSession', args: [hash] });
      const create = (hash: string, user: string, expires = later) => store.send({ op: 'createSession', args: [hash, user, expires] });
      const h = (n: string) => `${a}-${n}`.padEnd(64, '0');
      expect(await create(h('1'), a!)).toBeNull();
      await create(h('2'), a!);
      await create(h('3'), b!);
      await create(h('old'), a!, Date.now() - 1); // expired at birth
      expect(await resume(h('1'))).toBe(a);
      expect(await resume(h('3'))).toBe(b);
      expect(await resume(h('old'))).toBeNull();
      expect(await resume(h('never'))).toBeNull();
      expect(await store.send({ op: 'revokeSession', args: [h('1')] })).toBeNull();
      expect([await resume(h('1')), await resume(h('2'))]).toEqual([null, a]);
      expect(await store.send({ op: 'revokeUserSessions', args: [a!] })).toBeNull();
      expect([await resume(h('2')), await resume(h('3'))]).toEqual([null, b]);
      await create(h('4'), b!);
      expect(await store.send({ op: 'setPassword', args: [b!, 'scrypt$new'] })).toBeNull();
      expect(await store.send({ op: 'passwordHash', args: [b!] })).toBe('scrypt$new');
      expect([await resume(h('3')), await resume(h('4'))]).toEqual([null, null]);
      await expect(store.send({ op: 'setPassword', args: [uniqueUser('nobody'), 'x'] })).rejects.toMatchObject({ code: 'no_such_user' });
      // A new token after the password change is valid: revocation is of the tokens that existed.
      await create(h('5'), b!);
      expect(await resume(h('5'))).toBe(b);
    });
  });
}
