-- wrk: POST the dashboard query; a 200 carrying GraphQL "errors" counts as a failure.
-- With BODIES_FILE, the bodies are its lines in turn (one per analysis) instead of QUERY_BODY.
-- With MUTATE_EVERY=n, every n-th request is an updateProgress (badge evaluation included).
local query = os.getenv("QUERY_BODY")
local bodies = {}
if os.getenv("BODIES_FILE") then
  for line in io.lines(os.getenv("BODIES_FILE")) do bodies[#bodies + 1] = line end
end
local mutate_every = tonumber(os.getenv("MUTATE_EVERY") or "0")
local ids = {}
for id in string.gmatch(os.getenv("MUTATION_IDS") or "", "[^,]+") do ids[#ids + 1] = id end
n, failures = 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- AUTHORIZATION="Bearer …": every request carries the token (bench/ab.sh with AB_AUTH=1)
if os.getenv("AUTHORIZATION") then wrk.headers["Authorization"] = os.getenv("AUTHORIZATION") end

function request()
  n = n + 1
  if mutate_every > 0 and n % mutate_every == 0 and #ids > 0 then
    local i = math.floor(n / mutate_every)
    local id = ids[(i % #ids) + 1]
    local status = (math.floor(i / #ids) % 2 == 0) and "IN_PROGRESS" or "NOT_STARTED"
    return wrk.format(nil, "/graphql", nil,
      '{"query":"mutation($i: UpdateProgressInput!) { updateProgress(input: $i) { newBadges { id } progressSummary { implemented } } }","variables":{"i":{"analysisId":"' .. id .. '","opportunityId":"business_management","status":"' .. status .. '"}}}')
  end
  if #bodies > 0 then
    return wrk.format(nil, "/graphql", nil, bodies[(n % #bodies) + 1])
  end
  return wrk.format(nil, "/graphql", nil, query)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("failures") end
  -- one line of JSON for bench/http.sh
  io.write(string.format('WRKJSON {"requests":%d,"failures":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, failed, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
