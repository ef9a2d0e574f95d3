// The switchboard's hub backend for many hosts: each router operation becomes a RedisHub call,
// answered when Redis has answered. Posts (release, deliver, unacknowledged say) have nobody to
// answer: a failure there is logged, and the store or the presence lease repairs it (an
// undelivered DM waits for the next LOGIN; a release that did not reach Redis expires with the
// user's presence).
import type { RedisHub } from '../cluster/redis-hub.ts';
import type { HubBackend } from '../router/ops.ts';

export function redisBackend(hub: RedisHub, log: (line: string) => void): HubBackend {
  const logFailure = (what: string) => (err: unknown) => log(`router: ${what} failed: ${(err as Error).message}`);
  return {
    serve(reactor, call) {
      switch (call.op) {
        case 'claim':
          return hub.claim(call.user, reactor, call.session).then(() => null);
        case 'wizz':
          return hub.wizz(call.from, call.to, call.ts);
        case 'join':
          return hub.join(call.room, call.user, reactor, call.session);
        case 'leave':
          return hub.leave(call.room, call.user, reactor, call.session);
        case 'who':
          return hub.who(call.room ?? undefined, call.limit);
        case 'say':
          return hub.say(call.room, call.from, call.text, call.ts).then(() => null);
      }
    },
    apply(reactor, post) {
      switch (post.op) {
        case 'release':
          hub.release(post.user, reactor, post.session).catch(logFailure(`release of ${post.user}`));
          return;
        case 'deliver':
          hub.deliver(post.msg).catch(logFailure(`live delivery of message ${post.msg.msgId}`));
          return;
        case 'say':
          hub.say(post.room, post.from, post.text, post.ts).catch(logFailure(`SAY in ${post.room}`));
          return;
      }
    },
    reactorGone: (reactor) => hub.reactorGone(reactor),
    get onlineCount() {
      return hub.onlineCount;
    },
  };
}
