-- Fills a cache with distinct 1 KiB objects /fill/<tag>/<n>, n = 0..count-1 (second script
-- argument; the ranks of the latency run's Zipf mix), then stops; the origin answers any such
-- path. wrk honours thread:stop() only from response(), so a few requests past count repeat
-- the last URL (hits, not new objects). A third argument "down" fills count-1 first and 0 last,
-- so a full cache that evicts its oldest objects keeps the hottest ranks.
local tag, count, n, down = "f", 100000, 0, false
init = function(args)
  tag = args[1] or tag
  count = tonumber(args[2]) or count
  down = args[3] == "down"
end
request = function()
  if n < count then
    n = n + 1
  end
  local rank = n - 1
  if down then
    rank = count - n
  end
  return wrk.format("GET", "/fill/" .. tag .. "/" .. rank)
end
response = function()
  if n >= count then
    wrk.thread:stop()
  end
end
