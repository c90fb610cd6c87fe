-- GCRA (generic cell rate algorithm) in one round trip.
-- KEYS[1]: the caller's key. ARGV[1]: limit (requests per period), ARGV[2]:
-- period in ms. The key holds the theoretical arrival time (TAT, ms) and
-- expires when the caller is back to a full quota. Time is the server's, so
-- instances with skewed clocks agree.
-- Returns {allowed (1/0), remaining, retry_after_ms, reset_ms}.
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local interval = period / limit
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
-- A thousandth of a millisecond of slack absorbs floating-point error, so the
-- limit-th request of a burst is never refused by rounding.
if allow_at - now > 0.001 then
  return {0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
end
local reset = new_tat - now
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(reset))
local remaining = math.floor((period - reset) / interval + 0.000001)
return {1, remaining, 0, math.ceil(reset)}
