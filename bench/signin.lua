-- wrk script: password sign-ins with a valid double-submit CSRF pair.
-- Counts 303 (signed in) separately so failures cannot pass as throughput.
local token = string.rep("A", 43)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "portvakt-csrf=" .. token
-- Round robin over many accounts: people sign in, not one account in parallel.
local users = {}
for u in string.gmatch(os.getenv("BENCH_USERS"), "[^,]+") do table.insert(users, u) end
local n = 0
function request()
  n = n + 1
  local body = "csrf=" .. token .. "&username=" .. users[(n % #users) + 1] .. "&password=" .. os.getenv("BENCH_PASSWORD")
  return wrk.format(nil, nil, nil, body)
end

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) signed_in = 0; other = 0 end
function response(status, headers, body)
  if status == 303 then signed_in = signed_in + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do ok = ok + t:get("signed_in"); bad = bad + t:get("other") end
  io.write(string.format("SIGNED_IN %d\nOTHER %d\n", ok, bad))
end
