-- supervisor.lua -- keeps a child process running: when it exits, it is
-- restarted after a pause that doubles each time (up to a limit), its output
-- read line by line as it comes. Stopping the supervisor (Ctrl-C, or here
-- the end of the demo) kills the child and reaps it: a Process in a <close>
-- variable never outlives its scope, and a run never leaves a zombie.
--
--   asched scripts/examples/supervisor.lua        a worker that crashes twice, then runs well
--   asched --virtual-time scripts/examples/supervisor.lua

local attempts = 0

-- The child: a shell script that fails on its first two runs (it is told
-- which attempt it is), then works until it is stopped.
local function start_worker()
  attempts = attempts + 1
  return asched.process.spawn({"sh", "-c", [[
echo "worker $1 starting"
if [ "$1" -lt 3 ]; then echo "worker $1: something broke" >&2; exit 2; fi
while true; do echo "worker $1 working"; sleep 0.2; done
]], "worker", tostring(attempts)}, {stdout = "pipe", stderr = "pipe"})
end

-- Copies a child's stream to ours, line by line, as it arrives.
local function relay(stream, prefix)
  for line in function() return stream:read_line() end do print(prefix .. line) end
end

local function supervise(max_restarts)
  local pause = 0.1
  for _ = 1, max_restarts + 1 do
    local proc <close> = start_worker()
    local code, signal
    asched.task_group(function(tg)           -- the relays end with the child, or are cancelled with us
      tg:spawn(relay, proc.stdout, "  out: ")
      tg:spawn(relay, proc.stderr, "  err: ")
      code, signal = proc:wait()
    end)
    print(string.format("worker exited: code %s, signal %s; restarting in %.1f s", tostring(code), tostring(signal), pause))
    asched.sleep(pause)
    pause = math.min(pause * 2, 2)
  end
  print("giving up")
end

-- The demo: supervise for a while, then stop; the running worker is killed.
local ok = asched.move_on_after(2, supervise, 5)
print(ok and "supervisor finished" or "supervisor stopped after 2 s; the worker was killed with it")
