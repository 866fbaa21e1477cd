-- wrk script: POSTs the benchmark's chat request; prints one JSON result line at the end.
-- Env: STREAM=1 sends "stream": true with include_usage (wrk times until the stream ends);
--      MODEL overrides the model alias; LABEL is copied into the result line.
-- Keep the body in step with bench/lib/wire.ts (chatBody).
local stream = os.getenv("STREAM") == "1"
local model = os.getenv("MODEL") or "gpt-4o-mini"
local label = os.getenv("LABEL") or ""

wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-not-a-real-key"
wrk.body = '{"model":"' .. model .. '","messages":[' ..
  '{"role":"system","content":"You are a concise assistant. Answer in two sentences."},' ..
  '{"role":"user","content":"Explain what an LLM gateway does and why teams put one in front of model providers."}' ..
  '],"temperature":0.2,"max_tokens":64' .. (stream and ',"stream":true,"stream_options":{"include_usage":true}' or '') .. '}'

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
