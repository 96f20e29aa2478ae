-- A fixed offered load below saturation: each connection waits 1 ms
-- between requests (about 60 % of what one core answers with -c50),
-- so latency shows service time and interference, not queueing.
function delay()
  return 1
end
