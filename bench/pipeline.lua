-- wrk: send the default request DEPTH times back to back on each connection
-- (HTTP/1.1 pipelining); wrk counts every response.
local depth = tonumber(os.getenv("PIPELINE_DEPTH") or "16")
local batch

init = function(args)
  local requests = {}
  for i = 1, depth do requests[i] = wrk.format() end
  batch = table.concat(requests)
end

request = function()
  return batch
end
