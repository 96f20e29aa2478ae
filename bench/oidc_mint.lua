-- wrk script: mints authorization codes for bench/oidc_bench.py with real
-- GET /authorize requests of one signed-in session (BENCH_COOKIE), writing
-- each code from the 303's Location to BENCH_OUT, one per line, and stopping
-- after BENCH_N (wrk still runs for its -d). Any other answer is counted and reported as OTHER.
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  out = io.open(os.getenv("BENCH_OUT"), "w")
  want = tonumber(os.getenv("BENCH_N"))
  got = 0; other = 0
end

function response(status, headers, body)
  local location = headers["Location"] or headers["location"]
  local code = location and string.match(location, "[?&]code=([^&]+)")
  if status == 303 and code then
    if got < want then
      out:write(code, "\n")
      got = got + 1
    end
    if got >= want then
      out:flush()
      wrk.thread:stop()
    end
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("other") end
  io.write(string.format("OTHER %d\n", bad))
end
