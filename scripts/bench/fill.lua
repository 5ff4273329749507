-- Fills a cache with distinct 1 KiB objects /fill/<n>, n = 1..count (second script argument),
-- then stops. The first argument is a tag kept in the path so the origin answers any of them.
local tag, count, n = "f", 100000, 0
init = function(args)
  tag = args[1] or tag
  count = tonumber(args[2]) or count
end
request = function()
  n = n + 1
  if n > count then
    wrk.thread:stop()
  end
  return wrk.format("GET", "/fill/" .. tag .. "/" .. n)
end
