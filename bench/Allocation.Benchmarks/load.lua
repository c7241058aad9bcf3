-- wrk script for the allocation service. Arguments (after --):
--   mode: "allocate" | "add_batch" | "get"
--   prefix: unique per run, so order ids and references never repeat
--   skus: comma-separated SKUs to allocate against (allocate mode)
-- Prints one line "WRKJSON {...}" with exact percentiles and the count of 5xx responses.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "get"
  prefix = args[2] or "run"
  skus = {}
  for sku in string.gmatch(args[3] or "", "[^,]+") do table.insert(skus, sku) end
  counter = 0
  server_errors = 0
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  if mode == "allocate" then
    local sku = skus[(counter % #skus) + 1]
    local body = string.format('{"orderid":"%s-%d-%d","sku":"%s","qty":1}', prefix, tid, counter, sku)
    return wrk.format("POST", "/allocate", headers, body)
  elseif mode == "add_batch" then
    local body = string.format('{"ref":"%s-b-%d-%d","sku":"%s-s-%d-%d","qty":100,"eta":null}', prefix, tid, counter, prefix, tid, counter)
    return wrk.format("POST", "/add_batch", headers, body)
  end
  return wrk.format("GET", wrk.path)
end

function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
end

function done(summary, latency, requests)
  local errors5xx = 0
  for _, thread in ipairs(threads) do errors5xx = errors5xx + thread:get("server_errors") end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"errors5xx":%d,"socket_errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, errors5xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
