-- wrk script: POSTs the benchmark's chat request; prints one JSON result line at the end.
-- Env (set by bench/lib/loadgen.ts): BODY_FILE, the request body (written from chatBody in
--      bench/lib/wire.ts, so that the body cannot drift from what the other tools send; the
--      body-size rows pad it to 1-256 KB); CHAT_PATH, the request path (default
--      /v1/chat/completions; the long-stream variant adds a prefix); AUTHORIZATION, the header
--      carrying the bench's virtual key; LABEL is copied into the result line.
-- Without BODY_FILE it sends the default 330-byte JSON request (STREAM=1: with "stream": true).
local label = os.getenv("LABEL") or ""

wrk.method = "POST"
wrk.path = os.getenv("CHAT_PATH") or "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("AUTHORIZATION") or "Bearer sk-bench-not-a-real-key"

local file = os.getenv("BODY_FILE")
if file then
  local f = assert(io.open(file, "rb"))
  wrk.body = f:read("*a")
  f:close()
else
  local stream = os.getenv("STREAM") == "1"
  wrk.body = '{"model":"' .. (os.getenv("MODEL") or "gpt-4o-mini") .. '","messages":[' ..
    '{"role":"system","content":"You are a concise assistant. Answer in two sentences."},' ..
    '{"role":"user","content":"Explain what an LLM gateway does and why teams put one in front of model providers."}' ..
    '],"temperature":0.2,"max_tokens":64' .. (stream and ',"stream":true,"stream_options":{"include_usage":true}' or '') .. '}'
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"label":"%s","requests":%d,"duration_us":%d,"rps":%.1f,"mean_us":%.0f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    label, summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
