// The Lua scripts of RedisHub: every change that touches more than one key is one script, so Redis
// runs it whole, alone (no other host's command in between) — the check, the change and the
// PUBLISH that announces it in one round trip. Names come from keys.ts (LUA_NAMES).
//
// Numbers: fences are integers below 2^53 kept as the decimal strings Redis stores; scripts compare
// them as strings for equality and with tonumber() for order, and never format one with tostring()
// (Lua 5.1 prints only 14 significant digits).
import { LUA_NAMES } from './keys.ts';
import { LuaScript } from './lua.ts';

const HELPERS = `
-- Redis's clock in milliseconds.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A request whose caller has given up by now (its deadline, on Redis's clock, has passed) must not
-- take effect: it was answered \`unavailable\`. Redis stalled (or the command waited in a socket
-- buffer) is the usual reason. Scripts that change what a user sees call this first.
local function late(deadline)
  return now_ms() > tonumber(deadline)
end

-- A heartbeat or a reap notes when Redis last heard from any host; after a gap longer than half a
-- lease (Redis stalled, or every host at once was cut off) nobody is reaped for one more lease, so
-- every host can beat again first: a Redis that froze must not take live hosts for dead.
local function note_beat(lease_ms)
  local now = now_ms()
  local last = tonumber(redis.call('GET', K_LAST_BEAT) or '0')
  if last > 0 and now - last > lease_ms / 2 then
    redis.call('SET', K_REAP_GRACE, string.format('%d', now + lease_ms), 'PX', lease_ms * 2)
  end
  redis.call('SET', K_LAST_BEAT, string.format('%d', now))
  return now
end
local function presence(r, u, ev)
  return cjson.encode({t = 'presence', room = r, user = u, event = ev})
end

-- Removes u from room r; PRESENCE leave goes to the room when it keeps members.
local function remove_member(r, u)
  if redis.call('ZREM', k_room(r), u) == 0 then return 0 end
  redis.call('SREM', k_user_rooms(u), r)
  if redis.call('EXISTS', k_room(r)) == 1 then -- ZREM deleted the set if u was the last
    redis.call('PUBLISH', ch_room(r), presence(r, u, 'leave'))
  end
  return 1
end

local function drop_memberships(u)
  for _, r in ipairs(redis.call('SMEMBERS', k_user_rooms(u))) do remove_member(r, u) end
  redis.call('DEL', k_user_rooms(u))
end

-- u goes offline everywhere; n is the host its owner record names.
local function drop_owner(u, n)
  drop_memberships(u)
  redis.call('DEL', k_owner(u))
  redis.call('ZREM', K_ONLINE, u)
  redis.call('SREM', k_node_users(n), u)
end

-- The owner record of u names this host and this fence.
local function is_owner(u, node, fence)
  local cur = redis.call('HMGET', k_owner(u), 'node', 'fence')
  return cur[1] == node and cur[2] == fence
end

-- old = {node, reactor, session, fence} of the session being replaced: tell its host.
local function tell_replaced(u, old)
  redis.call('PUBLISH', ch_host(old[1]),
    cjson.encode({t = 'replace', user = u, reactor = old[2], session = old[3], fence = old[4]}))
end

-- The next fence: a hybrid clock, max(last + 1, Redis's clock in microseconds, floor + 1), where
-- floor is the highest fence the claiming host has seen. One claim takes far more than a
-- microsecond, so the counter never runs ahead of the clock: a Redis that restarted empty, or a
-- replica promoted without the newest writes, still hands out fences above every earlier one
-- (as long as its clock is not behind by more than the outage lasted). string.format('%d') writes
-- the integer exactly (a plain number argument would be formatted with 14 digits).
local function next_fence(floor)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local f = math.max(tonumber(redis.call('GET', K_FENCE) or '0') + 1, now, (tonumber(floor) or 0) + 1)
  redis.call('SET', K_FENCE, string.format('%d', f))
  return f
end
`;

const script = (name: string, body: string) => new LuaScript(name, `${LUA_NAMES}${HELPERS}\n${body}`);

/**
 * ARGV user, node, reactor, session, claim id, floor, deadline → the new fence ('late' past the deadline). The previous owner anywhere
 * loses its rooms (PRESENCE leave) and its host gets `replace`; then this session owns the user.
 * The claim id (unique per claim) lets UNCLAIM undo exactly this claim.
 */
export const CLAIM = script(
  'claim',
  `
if late(ARGV[7]) then return 'late' end
local u, node = ARGV[1], ARGV[2]
local fence = next_fence(ARGV[6])
local old = redis.call('HMGET', k_owner(u), 'node', 'reactor', 'session', 'fence')
if old[1] then
  drop_memberships(u)
  redis.call('SREM', k_node_users(old[1]), u)
  tell_replaced(u, old)
end
redis.call('DEL', k_owner(u))
redis.call('HSET', k_owner(u), 'node', node, 'reactor', ARGV[3], 'session', ARGV[4], 'fence', string.format('%d', fence), 'claim', ARGV[5])
redis.call('ZADD', K_ONLINE, 0, u)
redis.call('SADD', k_node_users(node), u)
return fence
`,
);

/**
 * ARGV user, node, claim id → 1 when that claim still held the user and is now undone, else 0.
 * For a claim whose caller gave up (a timeout: the script may run after all, later) or whose
 * session ended before its answer came: sent after the CLAIM on the same connection, it runs after it.
 */
export const UNCLAIM = script(
  'unclaim',
  `
local cur = redis.call('HMGET', k_owner(ARGV[1]), 'node', 'claim')
if cur[1] ~= ARGV[2] or cur[2] ~= ARGV[3] then return 0 end
drop_owner(ARGV[1], ARGV[2])
return 1
`,
);

/** ARGV user, node, fence → 1 when that session still owned the user and is now gone, else 0. */
export const RELEASE = script(
  'release',
  `
if not is_owner(ARGV[1], ARGV[2], ARGV[3]) then return 0 end
drop_owner(ARGV[1], ARGV[2])
return 1
`,
);

/**
 * ARGV room, user, node, fence, maxMembers (-1: no limit), listMax, deadline → 'late' |
 * {'limit_reached'} | {'session_replaced'} | {'ok', already 0/1, first listMax members (the joiner
 * always among them)}. PRESENCE join goes to the members already there.
 */
export const JOIN = script(
  'join',
  `
if late(ARGV[7]) then return 'late' end
local r, u = ARGV[1], ARGV[2]
local max, list_max = tonumber(ARGV[5]), tonumber(ARGV[6])
local key = k_room(r)
local already = redis.call('ZSCORE', key, u) ~= false
if not already and max >= 0 and redis.call('ZCARD', key) >= max then return {'limit_reached'} end
if not is_owner(u, ARGV[3], ARGV[4]) then return {'session_replaced'} end
if not already then
  if redis.call('EXISTS', key) == 1 then redis.call('PUBLISH', ch_room(r), presence(r, u, 'join')) end
  redis.call('ZADD', key, 0, u)
  redis.call('SADD', k_user_rooms(u), r)
end
local listed = redis.call('ZRANGE', key, 0, list_max - 1)
if redis.call('ZRANK', key, u) >= list_max then listed[#listed] = u end
return {'ok', already and 1 or 0, listed}
`,
);

/** ARGV room, user, node, fence, deadline → 1 when the session was a member (PRESENCE leave sent), else 0; 'late'. */
export const LEAVE = script(
  'leave',
  `
if late(ARGV[5]) then return 'late' end
if not is_owner(ARGV[2], ARGV[3], ARGV[4]) then return 0 end
return remove_member(ARGV[1], ARGV[2])
`,
);

/** ARGV user, payload → 1 when published to the owner's host, 0 when the user is offline. */
export const DELIVER = script(
  'deliver',
  `
local n = redis.call('HGET', k_owner(ARGV[1]), 'node')
if not n then return 0 end
redis.call('PUBLISH', ch_host(n), ARGV[2])
return 1
`,
);

/**
 * ARGV from, to, ts, windowMs, payload, deadline → 'rate_limited' | 'offline' | 'delivered' | 'late'.
 * Recorded only when delivered; the record expires with the window.
 */
export const WIZZ = script(
  'wizz',
  `
if late(ARGV[6]) then return 'late' end
local lk = k_wizz(ARGV[1], ARGV[2])
local at = redis.call('GET', lk)
if at and tonumber(ARGV[3]) - tonumber(at) < tonumber(ARGV[4]) then return 'rate_limited' end
local n = redis.call('HGET', k_owner(ARGV[2]), 'node')
if not n then return 'offline' end
redis.call('SET', lk, ARGV[3], 'PX', ARGV[4])
redis.call('PUBLISH', ch_host(n), ARGV[5])
return 'delivered'
`,
);

/**
 * ARGV room channel, payload, deadline → 1 when published, 'late' when the caller has given up
 * (a SAY answered `unavailable` must not be heard afterwards).
 */
export const SAY = script(
  'say',
  `
if late(ARGV[3]) then return 'late' end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`,
);

/**
 * ARGV node, leaseMs → {1 if the lease was still there else 0, users online on all hosts, the
 * reaped marker ('' if none: the host must re-register when set), Redis's clock in ms}.
 */
export const HEARTBEAT = script(
  'heartbeat',
  `
local now = note_beat(tonumber(ARGV[2]))
local existed = redis.call('EXISTS', k_lease(ARGV[1]))
redis.call('SET', k_lease(ARGV[1]), '1', 'PX', ARGV[2])
redis.call('SADD', K_NODES, ARGV[1])
return {existed, redis.call('ZCARD', K_ONLINE), redis.call('GET', k_reaped(ARGV[1])) or '', string.format('%d', now)}
`,
);

/**
 * ARGV self, budget, leaseMs → {node, users taken offline, users left to reap, ...} for every
 * other host whose lease expired — none during the grace that follows a stall of Redis (note_beat).
 * A reaped host finds a marker at its next heartbeat and re-registers what it still holds. At most `budget` users per call (a long script would stall Redis); a host
 * leaves the node set once all its users are reaped. Users who logged in elsewhere since (their
 * owner record names another host) are left alone.
 */
export const REAP = script(
  'reap',
  `
local out = {}
local now = note_beat(tonumber(ARGV[3]))
if now < tonumber(redis.call('GET', K_REAP_GRACE) or '0') then return out end
local budget = tonumber(ARGV[2])
for _, n in ipairs(redis.call('SMEMBERS', K_NODES)) do
  if budget <= 0 then break end
  if n ~= ARGV[1] and redis.call('EXISTS', k_lease(n)) == 0 then
    local users = redis.call('SPOP', k_node_users(n), budget)
    -- Lives 20 leases: a host asleep longer finds its lease gone anyway, and re-registers for that.
    if #users > 0 then redis.call('SET', k_reaped(n), string.format('%d', now), 'PX', tonumber(ARGV[3]) * 20) end
    local dropped = 0
    for _, u in ipairs(users) do
      if redis.call('HGET', k_owner(u), 'node') == n then
        drop_owner(u, n)
        dropped = dropped + 1
      end
    end
    budget = budget - #users
    local left = redis.call('SCARD', k_node_users(n))
    if left == 0 then redis.call('SREM', K_NODES, n) end
    table.insert(out, n)
    table.insert(out, dropped)
    table.insert(out, left)
  end
end
return out
`,
);

/**
 * Re-registers what this host holds (after Redis restarted, a lost connection, or a reap of a host
 * that was only slow). ARGV node, then per user: user, reactor, session, fence, exact (0/1),
 * nRooms, rooms... → the users whose owner record carries a newer fence (replaced elsewhere
 * meanwhile). The others own their user again with the local memberships (missing ones added
 * silently; with exact=1 extra ones leave with PRESENCE); an older owner elsewhere is replaced.
 * The fence counter is raised to the highest fence registered, so no later claim reuses one.
 */
export const RESYNC = script(
  'resync',
  `
local node = ARGV[1]
local lost = {}
local top, top_s = 0, nil
local i = 2
while i <= #ARGV do
  local u, fence, exact = ARGV[i], ARGV[i + 3], ARGV[i + 4] == '1'
  local n = tonumber(ARGV[i + 5])
  local rooms = {}
  for j = 1, n do rooms[ARGV[i + 5 + j]] = true end
  local cur = redis.call('HMGET', k_owner(u), 'node', 'reactor', 'session', 'fence')
  if cur[1] and tonumber(cur[4]) > tonumber(fence) then
    table.insert(lost, u)
  else
    if cur[1] and cur[4] ~= fence then
      drop_memberships(u)
      redis.call('SREM', k_node_users(cur[1]), u)
      tell_replaced(u, cur)
    end
    if tonumber(fence) > top then top, top_s = tonumber(fence), fence end
    redis.call('DEL', k_owner(u)) -- an older record's claim id must not match an UNCLAIM any more
    redis.call('HSET', k_owner(u), 'node', node, 'reactor', ARGV[i + 1], 'session', ARGV[i + 2], 'fence', fence)
    redis.call('ZADD', K_ONLINE, 0, u)
    redis.call('SADD', k_node_users(node), u)
    if exact then
      for _, r in ipairs(redis.call('SMEMBERS', k_user_rooms(u))) do
        if not rooms[r] then remove_member(r, u) end
      end
    end
    for r in pairs(rooms) do
      redis.call('ZADD', k_room(r), 0, u)
      redis.call('SADD', k_user_rooms(u), r)
    end
  end
  i = i + 6 + n
end
if top_s and top > tonumber(redis.call('GET', K_FENCE) or '0') then redis.call('SET', K_FENCE, top_s) end
return lost
`,
);

/**
 * ARGV node, users... → how many went offline: users listed under this host that it no longer
 * holds (a release that failed while Redis was unreachable; a previous run with the same node id).
 */
export const PRUNE = script(
  'prune',
  `
local dropped = 0
for i = 2, #ARGV do
  local u = ARGV[i]
  if redis.call('HGET', k_owner(u), 'node') == ARGV[1] then
    drop_owner(u, ARGV[1])
    dropped = dropped + 1
  else
    redis.call('SREM', k_node_users(ARGV[1]), u)
  end
end
return dropped
`,
);

/** ARGV node, marker → clears the reaped marker if it is still the one the host saw (its resync is done). */
export const CLEAR_REAPED = script(
  'clear_reaped',
  `
if redis.call('GET', k_reaped(ARGV[1])) == ARGV[2] then redis.call('DEL', k_reaped(ARGV[1])) end
return 1
`,
);
