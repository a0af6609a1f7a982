"""Lua scripts: each gateway write to Redis is one atomic round trip."""

# KEYS: seq, history, publishes-this-second counter.
# ARGV: topic, data (JSON text), ts, history length, seq floor (-1 = unknown), channel.
# Returns the new seq, or -1 when the seq key is gone (first publish, or Redis lost its
# data) and the caller has not yet said where to continue from.
PUBLISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  local floor = tonumber(ARGV[5])
  if floor < 0 then return -1 end
  redis.call('SET', KEYS[1], floor)
end
local seq = redis.call('INCR', KEYS[1])
local msg = '{"op":"message","topic":"' .. ARGV[1] .. '","seq":' .. seq ..
  ',"ts":' .. ARGV[3] .. ',"data":' .. ARGV[2] .. '}'
redis.call('LPUSH', KEYS[2], msg)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], 120)
redis.call('PUBLISH', ARGV[6], msg)
return seq
"""

# KEYS: seq, history, epoch. ARGV: since, seq floor (-1 = unknown), a fresh epoch id.
# Returns {current seq, entries newest first, epoch}: the entries after `since` that the
# capped history still holds (fewer than cur - since = gap). When the seq key is gone (Redis
# restarted empty) the current seq is NOT 0: without a floor the script returns -1 (the
# caller reads PostgreSQL's record and asks again); with one it seeds the counter there,
# exactly as PUBLISH does, so readers and publishers agree on where numbering goes on.
# The epoch names one unbroken history of the topic: seeding a lost counter starts a new
# one (the history before it is gone), so a client's old {seq, epoch} is never trusted.
HISTORY = """
local cur = redis.call('GET', KEYS[1])
if not cur then
  local floor = tonumber(ARGV[2])
  if floor < 0 then return {-1, {}, ''} end
  redis.call('SET', KEYS[1], floor)
  redis.call('SET', KEYS[3], ARGV[3])
  cur = floor
end
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[3], epoch)
end
cur = tonumber(cur)
local since = tonumber(ARGV[1])
if since >= cur then return {cur, {}, epoch} end
return {cur, redis.call('LRANGE', KEYS[2], 0, cur - since - 1), epoch}
"""

# KEYS: the supplier's lease ZSET. ARGV: member, limit, ttl ms.
# Leases are scored by expiry on Redis' own clock, so processes on other machines agree.
ACQUIRE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
"""

# KEYS: the supplier's lease ZSET. ARGV: ttl ms, members... (re-added if Redis lost them).
RENEW = """
local t = redis.call('TIME')
local expiry = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], expiry, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return #ARGV - 1
"""
