-- GCRA (generic cell rate algorithm) in one round trip.
-- KEYS[1]: the caller's key (the only key touched). ARGV[1]: limit (requests
-- per period), ARGV[2]: period in ms, ARGV[3]: the calling instance's clock,
-- Unix ms. The key holds the theoretical arrival time (TAT, ms) and expires
-- when the caller is back to a full quota.
-- The clock comes from the caller, not from TIME: ElastiCache Serverless
-- refuses TIME in scripts and Upstash does not document it. A TAT written by
-- a correct clock is never more than one period ahead, so one from a clock
-- running fast is clamped to now + period: skew between instances shifts a
-- caller's allowance by at most the skew, and never by more than one period.
-- Returns {allowed (1/0), remaining, retry_after_ms, reset_ms}.
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local interval = period / limit
-- Stamps from several instances reach Redis out of order by a few ms; a
-- request up to `slack` early counts as on time. Under half an interval it
-- never lets a burst exceed the limit, and it absorbs floating-point error.
local slack = math.min(interval / 2, 250)
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat > now + period then tat = now + period end
local new_tat = tat + interval
local allow_at = new_tat - period
if allow_at - now > slack then
  return {0, 0, math.ceil(allow_at - now - slack), math.ceil(tat - now)}
end
local reset = new_tat - now
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(reset))
local remaining = math.floor((period - reset + slack) / interval)
return {1, remaining, 0, math.ceil(reset)}
