-- One wrk scenario against fieldledgerd (or the reference). BENCH_SCENARIO picks the request;
-- BENCH_IDS names a file of ids (one per line) to pick from at random; BENCH_KEY is the key.
local scenario = os.getenv("BENCH_SCENARIO") or "static"
local ids = {}
local counter = 0
local words = {"acme", "globex", "initech", "umbrella", "stark", "wayne", "hooli", "vandelay",
               "soylent", "tyrell", "cyberdyne", "wonka", "facilities", "services", "clinic"}
local json = {["Content-Type"] = "application/json"}

function init(args)
  local path = os.getenv("BENCH_IDS")
  if path then
    local f = io.open(path)
    if f then
      for line in f:lines() do
        if #line > 0 then ids[#ids + 1] = line end
      end
      f:close()
    end
  end
  math.randomseed(os.time() + #tostring(ids) + math.floor(os.clock() * 1e6))
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "")
  json["Authorization"] = wrk.headers["Authorization"]  -- wrk.format does not merge tables
end

local function any_id() return ids[math.random(#ids)] end

function request()
  if scenario == "static" then
    return wrk.format("GET", "/customer.json")
  elseif scenario == "customer" then
    return wrk.format("GET", "/v1/customers/" .. any_id())
  elseif scenario == "primary" then
    return wrk.format("GET", "/v1/customers/" .. any_id() .. "/primary-contact")
  elseif scenario == "site-assets" then
    return wrk.format("GET", "/v1/sites/" .. any_id() .. "/assets?limit=20")
  elseif scenario == "search" then
    return wrk.format("GET", "/v1/customers?limit=20&q=" .. words[math.random(#words)])
  elseif scenario == "post" then
    counter = counter + 1
    return wrk.format("POST", "/v1/customers", json,
                      '{"name":"Bench ' .. counter .. ' ' .. math.random(1e9) .. '","type":"commercial"}')
  elseif scenario == "patch" then
    return wrk.format("PATCH", "/v1/customers/" .. any_id(), json,
                      '{"phone1":"+1 555 ' .. math.random(1000, 9999) .. '"}')
  elseif scenario == "batch" then
    local cmds = {}
    for i = 1, 100 do
      counter = counter + 1
      cmds[i] = '{"method":"POST","path":"/v1/customers","body":{"name":"Batch ' .. counter ..
                ' ' .. math.random(1e9) .. '"}}'
    end
    return wrk.format("POST", "/v1/batch", json, '{"commands":[' .. table.concat(cmds, ",") .. ']}')
  end
end

-- BENCH_DELAY_MS: each connection waits that long between its requests (wrk's delay()), for
-- latency at a rate below saturation (64 connections and 2 ms: at most 32k req/s).
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms then
  function delay() return delay_ms end
end

-- One machine-readable line: requests/s, p50 and p99 latency (µs), failed responses.
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("BENCH %.1f %d %d %d %d\n", summary.requests / secs,
                         latency:percentile(50), latency:percentile(99),
                         summary.errors.status + summary.errors.connect + summary.errors.read +
                           summary.errors.write + summary.errors.timeout,
                         summary.requests))
end
