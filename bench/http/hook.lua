-- wrk script: one durable webhook delivery per request, each a new caller with a new event id,
-- so every request starts a complaint (no deduplication, no one_open refusal).
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function request()
  counter = counter + 1
  local id = tid .. "-" .. counter
  local body = '{"event_id":"b' .. id .. '","call_id":"c' .. id .. '","status":"completed",' ..
               '"caller":"139' .. tid .. string.format("%08d", counter) .. '","tag":"complaint",' ..
               '"note":"bench"}'
  return wrk.format("POST", "/hooks/bench",
                    {["Content-Type"] = "application/json", ["X-Hook-Token"] = token}, body)
end

function init(args)
  counter = 0
  token = args[1]
end
