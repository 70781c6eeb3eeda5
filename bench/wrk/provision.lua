-- A controller's provision call: POST /provisionable/ with the APS headers and a resource body.
-- APS_PHASE (sync or async) picks the phase.
wrk.method = "POST"
wrk.path = (os.getenv("APS_BASE") or "") .. "/provisionable/"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["APS-Instance-ID"] = "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55"
wrk.headers["APS-Controller-URI"] = "http://127.0.0.1:6308"
wrk.headers["APS-Transaction-ID"] = "bench"
wrk.headers["APS-Request-Phase"] = os.getenv("APS_PHASE") or "sync"
wrk.body = '{"aps":{"id":"0f0c7b7e-1c5e-4f0e-9a55-3a3b6c1f2d10",'
  .. '"type":"http://aps-standard.org/samples/async-prov/provisionable/1.0",'
  .. '"status":"aps:provisioning"},"note":"kept"}'

-- Anything but 201/202 is an error the run must not hide.
local bad = 0
function response(status, headers, body)
  if status ~= 201 and status ~= 202 then bad = bad + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("unexpected_statuses %d\n", summary.errors.status + bad))
end
