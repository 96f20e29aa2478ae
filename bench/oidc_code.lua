-- wrk script: authorization code -> token exchanges (issue 13 benchmark).
-- Every request needs a fresh code: BENCH_CODES names a file of codes minted
-- beforehand, one per line, form-encoded, optionally followed by a space and
-- a PKCE code_verifier. Thread i of BENCH_THREADS takes every line i.
-- BENCH_AUTH: the Authorization header; BENCH_REDIRECT_URI: form-encoded.
-- When a thread runs out of codes it stops and reports EXHAUSTED: such a
-- run is void (bench/oidc_bench.py mints more and says so).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local id = wrk.thread:get("id")
  local n = tonumber(os.getenv("BENCH_THREADS") or "1")
  local redirect = os.getenv("BENCH_REDIRECT_URI")
  bodies = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_CODES")) do
    if i % n == id - 1 then
      local code, verifier = line:match("^(%S+)%s*(%S*)$")
      local body = "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. redirect
      if verifier ~= "" then body = body .. "&code_verifier=" .. verifier end
      table.insert(bodies, body)
    end
    i = i + 1
  end
  used = 0; issued = 0; other = 0; exhausted = 0
end

function request()
  if used >= #bodies then
    exhausted = 1
    wrk.thread:stop()
    return wrk.format(nil, nil, nil, bodies[#bodies])
  end
  used = used + 1
  return wrk.format(nil, nil, nil, bodies[used])
end

function response(status, headers, body)
  if status == 200 and string.find(body, '"id_token"', 1, true) then
    issued = issued + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local ok, bad, out = 0, 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("issued"); bad = bad + t:get("other"); out = out + t:get("exhausted")
  end
  io.write(string.format("ISSUED %d\nOTHER %d\nEXHAUSTED %d\n", ok, bad, out))
end
