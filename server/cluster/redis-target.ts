// Where RedisHub finds Redis: one server (redis://, rediss://) or the primary that Redis Sentinel
// currently names (redis+sentinel://). With Sentinel, ioredis asks the sentinels for the primary at
// every (re)connect and checks that the server it reached really is one, so after a failover the
// hosts follow the promoted replica by themselves; failoverDetector drops the connections as soon
// as a sentinel announces the switch, instead of waiting for the old primary's socket to fail.
import type { RedisOptions } from 'ioredis';

/**
 * `redis+sentinel://[[user]:password@]host:port[,host:port…]/primary-name[?sentinelPassword=…]`
 * — the sentinels to ask and the name of the primary group they watch (`sentinel monitor NAME …`).
 * The password (and user) are the data nodes'; the sentinels' own, if any, is a query parameter.
 */
export const SENTINEL_SCHEME = 'redis+sentinel:';

export interface RedisTarget {
  /** Passed to `new Redis(url, options)` for one server; null with Sentinel. */
  url: string | null;
  /** The connection options the target needs (sentinels, primary name, passwords). */
  options: RedisOptions;
}

export function redisTarget(url: string): RedisTarget {
  if (!url.startsWith(`${SENTINEL_SCHEME}//`)) return { url, options: {} };
  const rest = url.slice(`${SENTINEL_SCHEME}//`.length);
  const at = rest.lastIndexOf('@', rest.indexOf('/') === -1 ? rest.length : rest.indexOf('/'));
  const auth = at === -1 ? '' : rest.slice(0, at);
  const [hostList = '', pathAndQuery = ''] = (at === -1 ? rest : rest.slice(at + 1)).split(/\/(.*)/s);
  const [name = '', query = ''] = pathAndQuery.split('?');
  const sentinels = hostList.split(',').filter(Boolean).map(parseHostPort);
  if (sentinels.length === 0) throw new Error(`${url}: no sentinel listed (redis+sentinel://HOST:PORT[,HOST:PORT…]/NAME)`);
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`${url}: the primary's name must follow the sentinels (…/mymaster)`);
  const options: RedisOptions = { sentinels, name, failoverDetector: true };
  if (auth) {
    const colon = auth.indexOf(':');
    const user = decodeURIComponent(colon === -1 ? '' : auth.slice(0, colon));
    const password = decodeURIComponent(colon === -1 ? auth : auth.slice(colon + 1));
    if (user) options.username = user;
    if (password) options.password = password;
  }
  const sentinelPassword = new URLSearchParams(query).get('sentinelPassword');
  if (sentinelPassword) options.sentinelPassword = sentinelPassword;
  return { url: null, options };
}

function parseHostPort(hostPort: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(hostPort);
  const port = Number(m?.[2] ?? 26379);
  if (!m || port < 1 || port > 65_535) throw new Error(`"${hostPort}" is not HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
