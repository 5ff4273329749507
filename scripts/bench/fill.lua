-- Fills a cache with distinct 1 KiB objects /fill/<tag>/<n>, n = 0..count-1 (second script
-- argument; the ranks of the latency run's Zipf mix), then stops; the origin answers any such
-- path. wrk honours thread:stop() only from response(), so a few requests past count repeat
-- the last URL (hits, not new objects).
local tag, count, n = "f", 100000, 0
init = function(args)
  tag = args[1] or tag
  count = tonumber(args[2]) or count
end
request = function()
  if n < count then
    n = n + 1
  end
  return wrk.format("GET", "/fill/" .. tag .. "/" .. (n - 1))
end
response = function()
  if n >= count then
    wrk.thread:stop()
  end
end
