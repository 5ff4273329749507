-- Every request asks for a URL never asked before: /miss/<tag>/<n>. The tag (first script
-- argument) differs per run, so a later round cannot hit what an earlier one stored.
local tag, n = "x", 0
init = function(args) tag = args[1] or tag end
request = function()
  n = n + 1
  return wrk.format("GET", "/miss/" .. tag .. "/" .. n)
end
