-- wrk script: OAuth client_credentials token requests (issue 13 benchmark).
-- BENCH_AUTH is the whole Authorization header ("Basic ..."). An answer
-- counts as issued only with status 200 and an access token in the body,
-- so refusals cannot pass as throughput (bench/oidc_bench.py checks OTHER).
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=api"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) issued = 0; other = 0 end
function response(status, headers, body)
  if status == 200 and string.find(body, '"access_token"', 1, true) then
    issued = issued + 1
  else
    other = other + 1
  end
end
function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do ok = ok + t:get("issued"); bad = bad + t:get("other") end
  io.write(string.format("ISSUED %d\nOTHER %d\n", ok, bad))
end
