import { createHash } from 'node:crypto';
import type { LuaScript } from '../storage/redis.js';

/**
 * The Redis side of budget enforcement: one Lua script per operation, so each is atomic across
 * every counter a call charges. Time is Redis's own (`TIME`), so replica clocks cannot skew
 * reservation expiry.
 *
 * Per counter (budget × window): a hash `C` with `spent`, `reserved` and one `r:<id>` field per
 * live reservation, and a sorted set `Z` of reservation ids by expiry (epoch ms). Per call: `R`,
 * `held` while the reservation lives, then `settled` for a few minutes (a repeat is a no-op).
 */
const script = (source: string): LuaScript => ({ source, sha: createHash('sha1').update(source).digest('hex') });

const STANDINGS = `
local function standings(first, step, n)
  local st = {}
  for i = 1, n do
    local v = redis.call('HMGET', KEYS[first + (i - 1) * step], 'spent', 'reserved')
    st[#st + 1] = tonumber(v[1]) or -1
    st[#st + 1] = tonumber(v[2]) or 0
  end
  return st
end`;

const PURGE = `
local function purge(c, z, now)
  local dead = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, rid in ipairs(dead) do
    local held = redis.call('HGET', c, 'r:' .. rid)
    if held then
      redis.call('HINCRBY', c, 'reserved', -tonumber(held))
      redis.call('HDEL', c, 'r:' .. rid)
    end
  end
  if #dead > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
end`;

/**
 * KEYS: R, then C and Z per counter. ARGV: id, amount, ttlMs, mode (`new` | `extend` | `peek`),
 * n, then per counter: limit, refuses (1 for hard/downgrade, 0 for soft), zset expiry (epoch ms, 0 = none).
 */
export const RESERVE = script(`${STANDINGS}${PURGE}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id, amount, ttl, mode, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local unseeded = {}
for i = 1, n do
  if redis.call('HEXISTS', KEYS[2 * i], 'spent') == 0 then unseeded[#unseeded + 1] = i end
end
if #unseeded > 0 then return cjson.encode({ s = 'unseeded', u = unseeded }) end
if mode == 'new' and redis.call('EXISTS', KEYS[1]) == 1 then
  return cjson.encode({ s = 'ok', st = standings(2, 2, n), over = {} })
end
for i = 1, n do purge(KEYS[2 * i], KEYS[2 * i + 1], now) end
if mode == 'peek' then return cjson.encode({ s = 'ok', st = standings(2, 2, n), over = {} }) end
local over, refused = {}, false
for i = 1, n do
  local v = redis.call('HMGET', KEYS[2 * i], 'spent', 'reserved')
  local base = 5 + (i - 1) * 3
  if (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0) + amount > tonumber(ARGV[base + 1]) then
    over[#over + 1] = i
    if ARGV[base + 2] == '1' then refused = true end
  end
end
if refused then return cjson.encode({ s = 'over', st = standings(2, 2, n), over = over }) end
local expires = now + ttl
for i = 1, n do
  local c, z = KEYS[2 * i], KEYS[2 * i + 1]
  redis.call('HINCRBY', c, 'reserved', amount)
  redis.call('HINCRBY', c, 'r:' .. id, amount)
  redis.call('ZADD', z, expires, id)
  local at = tonumber(ARGV[5 + (i - 1) * 3 + 3])
  if at > 0 then redis.call('PEXPIREAT', z, at) end
end
redis.call('SET', KEYS[1], 'held', 'PX', ttl)
return cjson.encode({ s = 'ok', st = standings(2, 2, n), over = over })`);

/** Takes reservation `id` off counter `c` (its held amount out of `reserved`) and off its expiry set `z`. */
const DROP_HOLD = `
local function drop_hold(c, z, id)
  local held = redis.call('HGET', c, 'r:' .. id)
  if held then
    redis.call('HINCRBY', c, 'reserved', -tonumber(held))
    redis.call('HDEL', c, 'r:' .. id)
  end
  redis.call('ZREM', z, id)
end
`;

/** KEYS: R, then C and Z per counter. ARGV: id, actual, settled ttl ms, n. */
export const SETTLE = script(`${STANDINGS}${DROP_HOLD}
local id, n = ARGV[1], tonumber(ARGV[4])
if redis.call('GET', KEYS[1]) ~= 'settled' then
  for i = 1, n do
    local c = KEYS[2 * i]
    drop_hold(c, KEYS[2 * i + 1], id)
    -- A counter Redis lost stays unknown: it is reseeded from the ledger, which has this call.
    if redis.call('HEXISTS', c, 'spent') == 1 then redis.call('HINCRBY', c, 'spent', ARGV[2]) end
  end
  redis.call('SET', KEYS[1], 'settled', 'PX', ARGV[3])
end
return cjson.encode({ st = standings(2, 2, n) })`);

/** KEYS: R, then C and Z per counter. ARGV: id, n. */
export const RELEASE = script(`${DROP_HOLD}
local id, n = ARGV[1], tonumber(ARGV[2])
for i = 1, n do drop_hold(KEYS[2 * i], KEYS[2 * i + 1], id) end
if redis.call('GET', KEYS[1]) ~= 'settled' then redis.call('DEL', KEYS[1]) end
return 1`);

/** KEYS: C. ARGV: spent, counter expiry (epoch ms, 0 = none). */
export const SEED = script(`
if redis.call('HSETNX', KEYS[1], 'spent', ARGV[1]) == 1 then
  redis.call('HSETNX', KEYS[1], 'reserved', 0)
  if tonumber(ARGV[2]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
end
return 1`);
