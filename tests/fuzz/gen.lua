-- gen.lua -- the random task-program generator of the fuzzer (tests/fuzz).
--
-- generate(choose) builds a program as a tree, from a source of choices:
-- choose(n) returns an integer in 1..n. The runner draws the choices from a
-- seed (seeded(seed)); the libFuzzer target draws them from the fuzzer's
-- bytes, so both explore the same space of programs. render(program) turns
-- the tree into Lua source that calls the harness (harness.lua) for every
-- step it checks. A program is plain data, so the minimiser can delete steps
-- from it (reductions(program)) and render what is left.
--
-- A program: `prims` (the semaphores, locks, events, conditions, queues and
-- barriers it shares) and `main`, a body. A body is a list of steps; a step
-- is {op = name, ...} with its own nested bodies for the steps that run code
-- (spawn, timeout, task_group...). Steps refer to tasks by number: the
-- harness numbers every task it spawns, and a number past the last wraps.

local gen = {}

-- Choices from a seed: an xorshift generator of our own, so a seed means the
-- same program on every Lua build.
function gen.seeded(seed)
  local x = (seed * 2654435761 + 1) & 0xffffffff
  if x == 0 then x = 1 end
  return function(n)
    x = x ~ ((x << 13) & 0xffffffff)
    x = x ~ (x >> 17)
    x = x ~ ((x << 5) & 0xffffffff)
    return x % n + 1
  end
end

-- Choices from a string of bytes (the libFuzzer target): each choice takes
-- one byte; once they run out every choice is 1, which ends every body.
function gen.from_bytes(bytes)
  local i = 0
  return function(n)
    i = i + 1
    local b = bytes:byte(i)
    if b == nil then return 1 end
    return b % n + 1
  end
end

local DELAYS = {0, 0, 0.001, 0.01, 0.05, 0.1, 0.5}
local QUEUE_KINDS = {"queue", "lifo_queue", "priority_queue"}

---------------------------------------------------------------------------
-- Generating

local function pick(choose, list) return list[choose(#list)] end

local function make_prims(choose)
  local p = {sem = {}, bsem = {}, lock = 1 + (choose(2) - 1), event = choose(2), cond = choose(2) - 1,
             queue = {}, barrier = {}}
  p.cond_shares_lock = p.cond > 0 and choose(2) == 1   -- condition(L[1]): held by `hold` steps too
  for i = 1, choose(2) do p.sem[i] = choose(4) - 1 end          -- permits 0..3
  for i = 1, choose(2) - 1 do p.bsem[i] = choose(3) end          -- bounded 1..3
  for i = 1, choose(3) do p.queue[i] = {kind = pick(choose, QUEUE_KINDS), maxsize = choose(4) - 1} end
  for i = 1, choose(2) - 1 do p.barrier[i] = choose(3) + 1 end   -- parties 2..4
  return p
end

local body   -- forward: body(choose, prims, depth) -> list of steps

-- An action without suspension, for done callbacks and <close> handlers.
local function action(choose, prims)
  local k = choose(4)
  if k == 1 then return {act = "cancel", task = choose(9)} end
  if k == 2 then return {act = "set", event = choose(prims.event)} end
  if k == 3 then return {act = "put_nowait", queue = choose(#prims.queue), priority = choose(3)} end
  return {act = "nothing"}
end

-- A list of child bodies (for gather, wait, as_completed, task_group).
local function children(choose, prims, depth)
  local list = {}
  for i = 1, choose(3) do list[i] = body(choose, prims, depth + 1) end
  return list
end

-- One step. Deeper steps nest less: past depth 3 only leaf steps.
local function step(choose, prims, depth)
  local leaf = depth >= 3
  local kinds = leaf and 20 or 38
  local k = choose(kinds)
  local s
  -- leaves: waits and signals on one thing
  if k <= 3 then s = {op = "sleep", delay = pick(choose, DELAYS)}
  elseif k == 4 then s = {op = "fail"}
  elseif k == 5 then s = choose(4) == 1 and {op = "uncancel", task = choose(9)} or {op = "cancel", task = choose(9)}
  elseif k == 6 then s = {op = "await", task = choose(9)}
  elseif k == 7 then s = {op = "event_wait", event = choose(prims.event)}
  elseif k == 8 then s = {op = "event_set", event = choose(prims.event)}
  elseif k == 9 then s = {op = "event_clear", event = choose(prims.event)}
  elseif k == 10 then s = {op = "put", queue = choose(#prims.queue), priority = choose(3)}
  elseif k == 11 then s = {op = "get", queue = choose(#prims.queue)}
  elseif k == 12 then s = {op = "put_nowait", queue = choose(#prims.queue), priority = choose(3)}
  elseif k == 13 then s = {op = "get_nowait", queue = choose(#prims.queue)}
  elseif k == 14 then s = {op = "shutdown", queue = choose(#prims.queue), immediate = choose(2) == 1}
  elseif k == 15 then s = {op = "join", queue = choose(#prims.queue)}
  -- (a program without barriers or conditions sleeps instead: see the end)
  elseif k == 16 then
    if #prims.barrier > 0 then s = {op = "barrier_wait", barrier = choose(#prims.barrier)} end
  elseif k == 17 then
    if #prims.barrier > 0 then s = {op = pick(choose, {"barrier_abort", "barrier_reset"}), barrier = choose(#prims.barrier)} end
  elseif k == 18 then
    if prims.cond > 0 then s = {op = "cond_wait", cond = choose(prims.cond), target = choose(3)} end
  elseif k == 19 then
    if prims.cond > 0 then s = {op = "cond_notify", cond = choose(prims.cond), all = choose(2) == 1} end
  elseif k == 20 then s = {op = "on_done", task = choose(9), action = action(choose, prims)}
  -- steps with bodies
  elseif k <= 22 then s = {op = "spawn", body = body(choose, prims, depth + 1), cancel_at_once = choose(6) == 1}
  elseif k == 23 then
    local sems = #prims.sem + #prims.bsem
    local which = choose(sems + prims.lock)
    s = {op = "hold", guard = choose(2) == 1, body = body(choose, prims, depth + 1)}
    if which <= #prims.sem then s.kind, s.index = "sem", which
    elseif which <= sems then s.kind, s.index = "bsem", which - #prims.sem
    else s.kind, s.index = "lock", which - sems end
  elseif k == 24 then s = {op = "gather", children = children(choose, prims, depth), return_exceptions = choose(2) == 1}
  elseif k == 25 then s = {op = "wait", children = children(choose, prims, depth), timeout = choose(2) == 1 and pick(choose, DELAYS) or nil,
                           return_when = pick(choose, {"all_completed", "first_completed", "first_exception"})}
  elseif k == 26 then s = {op = "as_completed", children = children(choose, prims, depth), timeout = choose(2) == 1 and pick(choose, DELAYS) or nil}
  elseif k == 27 then s = {op = "wait_for", body = body(choose, prims, depth + 1), delay = pick(choose, DELAYS), as_task = choose(2) == 1}
  elseif k == 28 then s = {op = "timeout", body = body(choose, prims, depth + 1), delay = pick(choose, DELAYS)}
  elseif k == 29 then s = {op = "timeout_at", body = body(choose, prims, depth + 1), delay = pick(choose, DELAYS)}
  elseif k == 30 then s = {op = "move_on_after", body = body(choose, prims, depth + 1), delay = pick(choose, DELAYS)}
  elseif k == 31 then s = {op = "shield", body = body(choose, prims, depth + 1), as_task = choose(2) == 1}
  elseif k <= 33 then s = {op = "task_group", children = children(choose, prims, depth), body = body(choose, prims, depth + 1),
                           cancel = choose(5) == 1}
  elseif k == 34 then s = {op = "closer", action = action(choose, prims), body = body(choose, prims, depth + 1)}
  elseif k == 35 then s = {op = "cancel_later", task = choose(9), delay = pick(choose, DELAYS)}
  else s = {op = "try", body = body(choose, prims, depth + 1)}
  end
  return s or {op = "sleep", delay = 0}
end

-- A body: 1 to 5 steps, most of them guarded by try (an error caught there
-- is checked to be one the step may raise; a CancelledError goes on).
function body(choose, prims, depth)
  local steps = {}
  for i = 1, choose(5) do
    local s = step(choose, prims, depth)
    if s.op ~= "try" and choose(4) > 1 then s = {op = "try", body = {s}} end
    steps[i] = s
  end
  return steps
end

function gen.generate(choose)
  local prims = make_prims(choose)
  local main = {}
  for i = 1, choose(12) + 3 do
    local s = step(choose, prims, 0)
    if s.op ~= "try" and choose(3) > 1 then s = {op = "try", body = {s}} end
    main[i] = s
  end
  return {prims = prims, main = main}
end

---------------------------------------------------------------------------
-- Reductions, for the minimiser: every way to make the program smaller by
-- one edit, as functions that edit `program` in place, outermost first.
-- Deleting a step; replacing a step that has a body by that body (a try,
-- a timeout, a spawn... unwrapped); deleting a child of a gather, wait,
-- as_completed or task_group. Apply one to a copy (gen.copy): the same
-- index finds the same edit on an equal program.

function gen.reductions(program)
  local found = {}
  local function walk(list)
    for i, s in ipairs(list) do
      found[#found + 1] = function() table.remove(list, i) end
      if s.body then
        found[#found + 1] = function()
          table.remove(list, i)
          for j = #s.body, 1, -1 do table.insert(list, i, s.body[j]) end
        end
        walk(s.body)
      end
      if s.children then
        for j, c in ipairs(s.children) do
          if #s.children > 1 then found[#found + 1] = function() table.remove(s.children, j) end end
          walk(c)
        end
      end
    end
  end
  walk(program.main)
  return found
end

-- How many steps a program has, at every depth.
function gen.count(program)
  local n = 0
  local function walk(list)
    for _, s in ipairs(list) do
      n = n + 1
      if s.body then walk(s.body) end
      if s.children then for _, c in ipairs(s.children) do walk(c) end end
    end
  end
  walk(program.main)
  return n
end

-- A deep copy, so that a removal can be tried and undone.
function gen.copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = gen.copy(x) end
  return t
end

---------------------------------------------------------------------------
-- Rendering: Lua source calling the harness `H`.

local function num(x) return string.format("%.17g", x) end

local function act(a)
  if a.act == "cancel" then return string.format("{act = 'cancel', task = %d}", a.task) end
  if a.act == "set" then return string.format("{act = 'set', event = E[%d]}", a.event) end
  if a.act == "put_nowait" then return string.format("{act = 'put_nowait', queue = Q[%d], priority = %d}", a.queue, a.priority) end
  return "{act = 'nothing'}"
end

local render_body

local function fn(steps, ind)
  return "function()\n" .. render_body(steps, ind .. "  ") .. ind .. "end"
end

local function fns(list, ind)
  local parts = {}
  for i, c in ipairs(list) do parts[i] = ind .. "  " .. fn(c, ind .. "  ") end
  return "{\n" .. table.concat(parts, ",\n") .. "\n" .. ind .. "}"
end

local RENDER = {
  sleep = function(s) return "H.sleep(" .. num(s.delay) .. ")" end,
  fail = function() return "H.fail()" end,
  cancel = function(s) return "H.cancel(" .. s.task .. ")" end,
  uncancel = function(s) return "H.uncancel(" .. s.task .. ")" end,
  await = function(s) return "H.await(" .. s.task .. ")" end,
  event_wait = function(s) return "E[" .. s.event .. "]:wait()" end,
  event_set = function(s) return "E[" .. s.event .. "]:set()" end,
  event_clear = function(s) return "E[" .. s.event .. "]:clear()" end,
  put = function(s) return string.format("H.put(Q[%d], %d)", s.queue, s.priority) end,
  get = function(s) return string.format("H.get(Q[%d])", s.queue) end,
  put_nowait = function(s) return string.format("H.put_nowait(Q[%d], %d)", s.queue, s.priority) end,
  get_nowait = function(s) return string.format("H.get_nowait(Q[%d])", s.queue) end,
  shutdown = function(s) return string.format("H.shutdown(Q[%d], %s)", s.queue, tostring(s.immediate)) end,
  join = function(s) return string.format("Q[%d].q:join()", s.queue) end,
  barrier_wait = function(s) return "B[" .. s.barrier .. "]:wait()" end,
  barrier_abort = function(s) return "B[" .. s.barrier .. "]:abort()" end,
  barrier_reset = function(s) return "B[" .. s.barrier .. "]:reset()" end,
  cond_wait = function(s) return string.format("H.cond_wait(C[%d], %d)", s.cond, s.target) end,
  cond_notify = function(s) return string.format("H.cond_notify(C[%d], %s)", s.cond, tostring(s.all)) end,
  on_done = function(s) return string.format("H.on_done(%d, %s)", s.task, act(s.action)) end,
  cancel_later = function(s) return string.format("H.cancel_later(%d, %s)", s.task, num(s.delay)) end,
  spawn = function(s, ind)
    return string.format("H.spawn(%s, %s)", fn(s.body, ind), tostring(s.cancel_at_once))
  end,
  hold = function(s, ind)
    local prim = (s.kind == "sem" and "S" or s.kind == "bsem" and "BS" or "L") .. "[" .. s.index .. "]"
    if s.guard then
      return "do\n" .. ind .. "  local guard <close> = " .. prim .. ":acquire()\n" ..
             render_body(s.body, ind .. "  ") .. ind .. "end"
    end
    return prim .. ":with(" .. fn(s.body, ind) .. ")"
  end,
  gather = function(s, ind)
    return string.format("H.gather(%s, %s)", fns(s.children, ind), tostring(s.return_exceptions))
  end,
  wait = function(s, ind)
    return string.format("H.wait(%s, %s, %q)", fns(s.children, ind), s.timeout and num(s.timeout) or "nil", s.return_when)
  end,
  as_completed = function(s, ind)
    return string.format("H.as_completed(%s, %s)", fns(s.children, ind), s.timeout and num(s.timeout) or "nil")
  end,
  wait_for = function(s, ind)
    return string.format("H.wait_for(%s, %s, %s)", fn(s.body, ind), num(s.delay), tostring(s.as_task))
  end,
  timeout = function(s, ind) return string.format("H.timeout(%s, %s)", num(s.delay), fn(s.body, ind)) end,
  timeout_at = function(s, ind) return string.format("H.timeout_at(%s, %s)", num(s.delay), fn(s.body, ind)) end,
  move_on_after = function(s, ind) return string.format("H.move_on_after(%s, %s)", num(s.delay), fn(s.body, ind)) end,
  shield = function(s, ind) return string.format("H.shield(%s, %s)", fn(s.body, ind), tostring(s.as_task)) end,
  task_group = function(s, ind)
    return string.format("H.task_group(%s, %s, %s)", fns(s.children, ind), fn(s.body, ind), tostring(s.cancel))
  end,
  closer = function(s, ind)
    return "do\n" .. ind .. "  local closer <close> = H.closer(" .. act(s.action) .. ")\n" ..
           render_body(s.body, ind .. "  ") .. ind .. "end"
  end,
  try = function(s, ind) return "H.try(" .. fn(s.body, ind) .. ")" end,
}

function render_body(steps, ind)
  local out = {}
  for i, s in ipairs(steps) do
    out[i] = ind .. RENDER[s.op](s, ind) .. "\n"
  end
  return table.concat(out)
end

function gen.render(program)
  local p = program.prims
  local lines = {"local H, asched = ...",
                 "local S, BS, L, E, C, Q, B = {}, {}, {}, {}, {}, {}, {}"}
  for i, n in ipairs(p.sem) do lines[#lines + 1] = string.format("S[%d] = H.semaphore(%d)", i, n) end
  for i, n in ipairs(p.bsem) do lines[#lines + 1] = string.format("BS[%d] = H.bounded_semaphore(%d)", i, n) end
  for i = 1, p.lock do lines[#lines + 1] = string.format("L[%d] = H.lock()", i) end
  for i = 1, p.event do lines[#lines + 1] = string.format("E[%d] = asched.event()", i) end
  for i = 1, p.cond do
    lines[#lines + 1] = string.format("C[%d] = H.condition(%s)", i, p.cond_shares_lock and "L[1]" or "")
  end
  for i, q in ipairs(p.queue) do lines[#lines + 1] = string.format("Q[%d] = H.queue(%q, %d)", i, q.kind, q.maxsize) end
  for i, n in ipairs(p.barrier) do lines[#lines + 1] = string.format("B[%d] = H.barrier(%d)", i, n) end
  return table.concat(lines, "\n") .. "\n" .. render_body(program.main, "")
end

return gen
