-- combine_load_spec.lua -- issue 19, load: a hundred thousand child tasks
-- (ASCHED_LONG=1; fewer by default) run in task groups and through gather, with
-- children failing, children cancelled one by one, groups cancelled from inside
-- (tg:cancel) and from outside, and gather callers cancelled, all at random
-- under virtual time with a fixed seed. Every group and every gather must end the
-- way its children's fates say, no child may outlive its group, and every child is
-- counted once.
--
-- Runs as busted's main task inside asched: ASCHED_VIRTUAL_TIME=1 busted
-- --lua=asched load/combine_load_spec.lua, from tests/ (tests/CMakeLists.txt).
local helpers = require("spec.helpers")
local load = require("load.support")

local SEED = load.seed(19190420)
local N = load.size(20000, 100000)     -- children (task_group) or items (gather)
local TICK = 0.01

local function ticks(lo, hi) return TICK * math.random(lo, hi) end
local function me() return asched.current_task() end

-- No task of the run is left behind once it is over, nor anything else on the
-- Lua heap (`heap`: load.heap_kb() before the run).
local function assert_no_task_left(heap)
  assert.equals(0, #asched.all_tasks() - 1, "tasks left pending after the run")
  load.assert_heap_back(heap)
end

-- Prunes finished tasks from `pool` (a list), retrieving their errors (an item
-- that failed after its gather raised has nobody else to look), and cancels up
-- to `k` random others, marking each accepted request in `requested`.
local function cancel_some(pool, requested, k)
  load.prune(pool, load.outcome)
  for _ = 1, k do
    if #pool == 0 then return end
    local t = pool[math.random(#pool)]
    if t:cancel("load") then requested[t] = true end
  end
end

describe("load: " .. N .. " children in task groups", function()
  after_each(helpers.cancel_leftovers)

  it("every group ends as its children's fates say, and no child outlives its group", function()
    local heap = load.heap_kb()
    math.randomseed(SEED)
    local v = load.violations()
    local phase, pool, child_requested = {}, {}, setmetatable({}, {__mode = "k"})
    local children = load.tally()           -- child outcomes
    local groups = load.tally()             -- group outcomes
    local made = 0                          -- children spawned, over all groups

    -- A child sleeps, then fails (recording its error first) or returns j; one in
    -- ten spawns a grandchild into the same group. Groups are started until N
    -- children were spawned (a few more by the groups still running then).
    local function child(tg, kids, raised, j, fails)
      asched.sleep(ticks(0, 4))
      if fails then
        local err = {name = "ChildError", j = j}
        raised[#raised + 1] = err
        error(err, 0)
      end
      if math.random() < 0.1 then
        local ok, grandchild = pcall(tg.spawn, tg, child, tg, kids, raised, -j, false)
        if ok then
          made = made + 1
          kids[#kids + 1] = grandchild
          pool[#pool + 1] = grandchild
        elseif load.error_name(grandchild) ~= "RuntimeError" then   -- else: the group is being cancelled
          v.add("tg:spawn in a child raised %s", tostring(grandchild))
        end
      end
      asched.sleep(ticks(0, 2))
      return j
    end

    local started = 0
    local function group(i)
      local self = me()
      started = started + 1
      phase[self] = "in fn"
      local plan = ({"ok", "ok", "ok", "child fails", "child fails", "tg:cancel", "fn fails"})[math.random(7)]
      local m = math.random(1, 40)
      local kids, raised = {}, {}
      local results = table.pack(pcall(asched.task_group, function(tg)
        local fail_at = plan == "child fails" and math.random(m) or nil
        for j = 1, m do
          local fails = j == fail_at or (plan == "child fails" and math.random() < 0.05)
          local ok, kid = pcall(tg.spawn, tg, child, tg, kids, raised, j, fails)
          if not ok then                     -- cancelled by a child's error meanwhile
            if load.error_name(kid) ~= "RuntimeError" then v.add("tg:spawn raised %s", tostring(kid)) end
            break
          end
          made = made + 1
          kids[#kids + 1] = kid
          pool[#pool + 1] = kid
          if math.random() < 0.2 then asched.sleep(ticks(0, 1)) end
        end
        asched.sleep(ticks(0, 3))
        if plan == "tg:cancel" then
          tg:cancel()
          asched.sleep(1)                    -- cancelled here
          v.add("fn went on after tg:cancel()")
        elseif plan == "fn fails" then
          local err = {name = "FnError", i = i}
          raised[#raised + 1] = err
          error(err, 0)
        end
        phase[self] = "waiting for children"
        return "fn", i
      end))
      phase[self] = "checking"
      for _, kid in ipairs(kids) do
        if not kid:done() then v.add("group %d: a child outlived task_group", i) end
        local outcome, err = load.outcome(kid)
        children[outcome] = children[outcome] + 1
        if child_requested[kid] and outcome ~= "cancelled" then
          v.add("group %d: a child cancelled by the driver ended %s", i, outcome)
        end
        if outcome == "failed:ChildError" then
          local listed = false
          for _, e in ipairs(raised) do listed = listed or e == err end
          if not listed then v.add("group %d: a child failed with an error it did not raise", i) end
        elseif outcome ~= "done" and outcome ~= "cancelled" then
          v.add("group %d: a child ended %s", i, outcome)
        end
        child_requested[kid] = nil
      end
      local ok, err = results[1], results[2]
      if #raised > 0 then
        -- Errors raised: a TaskGroupError listing exactly them, in order.
        if ok or load.error_name(err) ~= "TaskGroupError" then
          v.add("group %d (%s): %d errors raised, but task_group gave %s", i, plan, #raised,
                ok and "values" or tostring(err))
        elseif #err.errors ~= #raised then
          v.add("group %d: %d errors raised, TaskGroupError lists %d", i, #raised, #err.errors)
        else
          for k, e in ipairs(raised) do
            if err.errors[k] ~= e then v.add("group %d: errors[%d] is not the %dth error raised", i, k, k) end
          end
        end
        groups["TaskGroupError"] = groups["TaskGroupError"] + 1
        asched.sleep(0)                      -- an outside cancellation stays requested: raised here
      elseif not ok then
        if load.error_name(err) ~= "CancelledError" then
          v.add("group %d (%s): no error raised, but task_group raised %s", i, plan, tostring(err))
        end
        groups["CancelledError"] = groups["CancelledError"] + 1
        error(err, 0)                        -- the driver's cancellation: the task ends cancelled
      elseif self:cancelling() > 0 then
        v.add("group %d (%s): task_group returned with a cancellation requested", i, plan)
        groups["returned while cancelled"] = groups["returned while cancelled"] + 1
      elseif plan == "tg:cancel" then
        if results.n ~= 1 then v.add("group %d: task_group returned values after tg:cancel()", i) end
        groups["tg:cancel"] = groups["tg:cancel"] + 1
      else
        if results.n ~= 3 or results[2] ~= "fn" or results[3] ~= i then
          v.add("group %d: task_group returned %s, %s", i, tostring(results[2]), tostring(results[3]))
        end
        groups["returned"] = groups["returned"] + 1
      end
    end

    local r = load.churn({
      n = math.huge, phase = phase, body = group, tick = TICK, width = 100, batch = 5, cancels = 1,
      more = function() return made < N end,
      expect = function(outcome) return outcome == "done" end,
      step = function() cancel_some(pool, child_requested, math.random(0, 8)) end,
    })
    load.assert_churn(r, r.spawned, {"starting", "in fn", "waiting for children"})
    v.assert_none("task groups")
    assert.is_true(made >= N, made .. " children")
    assert.equals(made, load.sum(children), "children counted")
    assert.equals(started, load.sum(groups), "group outcomes counted")
    assert.equals(r.spawned, started + r.cancelled_in.starting, "groups started or cancelled before they ran")
    for _, what in ipairs({"TaskGroupError", "CancelledError", "tg:cancel", "returned"}) do
      assert.is_true(groups[what] > 0, "no group ended with " .. what)
    end
    for _, what in ipairs({"done", "cancelled", "failed:ChildError"}) do
      assert.is_true(children[what] > 0, "no child ended " .. what)
    end
    assert_no_task_left(heap)
    load.report("task_group callers", r, {children_done = children.done, children_cancelled = children.cancelled,
                                   children_failed = children["failed:ChildError"], task_group_errors = groups.TaskGroupError})
  end)
end)

describe("load: " .. N .. " items through gather", function()
  after_each(helpers.cancel_leftovers)

  it("every gather returns its items' values in order or the right error, and no item is left running", function()
    local heap = load.heap_kb()
    math.randomseed(SEED)
    local v = load.violations()
    local phase, pool, item_requested = {}, {}, setmetatable({}, {__mode = "k"})
    local items = load.tally()              -- item outcomes, as the items saw them
    local callers = load.tally()
    local planned, running = 0, 0

    -- An item sleeps, then fails or returns j * 10. It counts itself running while
    -- its function runs, and records how it ended (`ends[j]`).
    local function item(ends, j, fails)
      running = running + 1
      local bye <close> = load.on_exit(function(err)
        running = running - 1
        local how = err == nil and "done" or load.error_name(err)
        ends[j] = how
        items[how] = items[how] + 1
      end)
      asched.sleep(ticks(0, 4))
      if fails then error({name = "ItemError", j = j}, 0) end
      return j * 10
    end

    local started = 0
    local function caller(i)
      local self = me()
      started = started + 1
      phase[self] = "spawning"
      local m = math.min(math.random(1, 40), N - planned)
      planned = planned + m
      local return_exceptions = math.random() < 0.5
      local list, is_task, fails, ends = {}, {}, {}, {}
      local fn_left = 0
      for j = 1, m do
        fails[j] = math.random() < 0.05
        if math.random() < 0.5 or (fails[j] and not return_exceptions) then
          -- A task of our own, which the driver may cancel. (A function that
          -- fails after gather raised an earlier error would have nobody to
          -- retrieve its error; a task's is retrieved by cancel_some.)
          list[j] = asched.spawn(item, ends, j, fails[j])
          is_task[j] = true
          pool[#pool + 1] = list[j]
        else                               -- a function: gather spawns it
          list[j] = function() return item(ends, j, fails[j]) end
          fn_left = fn_left + 1
        end
      end
      phase[self] = "gathering"
      local ok, r = pcall(asched.gather, list, {return_exceptions = return_exceptions})
      phase[self] = "checking"
      if not ok and load.error_name(r) == "CancelledError" and self:cancelling() > 0 then
        -- Cancelling the caller cancels every item still running.
        for j = 1, m do
          if is_task[j] and not list[j]:done() and list[j]:cancelling() == 0 then
            v.add("gather %d was cancelled, but its item %d runs on uncancelled", i, j)
          end
        end
        callers["cancelled from outside"] = callers["cancelled from outside"] + 1
        error(r, 0)                          -- the driver cancelled us: end cancelled
      end
      if ok then
        if r.n ~= m then v.add("gather %d: r.n = %s, expected %d", i, tostring(r.n), m) end
        for j = 1, m do
          local how = ends[j] or (is_task[j] and list[j]:cancelled() and "CancelledError") or "never ran"
          local want = how == "done" and j * 10 or nil
          if how == "done" then
            if r[j] ~= want then v.add("gather %d: r[%d] = %s, expected %d", i, j, tostring(r[j]), want) end
          elseif not return_exceptions then
            v.add("gather %d returned, but item %d ended %s", i, j, how)
          elseif load.error_name(r[j]) ~= how then
            v.add("gather %d: r[%d] is %s, but the item ended %s", i, j, tostring(r[j]), how)
          elseif how == "ItemError" and r[j].j ~= j then
            v.add("gather %d: r[%d] holds item %s's error", i, j, tostring(r[j].j))
          end
        end
        callers[return_exceptions and "returned with exceptions" or "returned"] =
          callers[return_exceptions and "returned with exceptions" or "returned"] + 1
        return
      end
      -- An item's error, raised at once; the other items keep running to their end.
      local name = load.error_name(r)
      if return_exceptions then
        v.add("gather %d with return_exceptions raised %s", i, tostring(r))
      elseif name == "ItemError" then
        if not fails[r.j] then v.add("gather %d raised the error of item %d, which did not fail", i, r.j) end
      elseif name == "CancelledError" then
        local any = false
        for j = 1, m do any = any or (is_task[j] and item_requested[list[j]]) end
        if not any then v.add("gather %d raised CancelledError, but no item was cancelled", i) end
      else
        v.add("gather %d raised %s", i, tostring(r))
      end
      callers[name] = callers[name] + 1
      phase[self] = "waiting for the others"
      local tasks = {}
      for j = 1, m do
        if is_task[j] then tasks[#tasks + 1] = list[j] end
      end
      if #tasks > 0 then asched.wait(tasks) end   -- never cancels them, nor raises their errors
      while true do                          -- the function items, as they end
        local left = 0
        for j = 1, m do
          if not is_task[j] and not ends[j] then left = left + 1 end
        end
        if left == 0 then break end
        asched.sleep(TICK)
      end
      for j = 1, m do
        local cancelled = is_task[j] and item_requested[list[j]]
        local how = ends[j] or (is_task[j] and list[j]:cancelled() and "CancelledError") or "never ran"
        local want = cancelled and "CancelledError" or fails[j] and "ItemError" or "done"
        if how ~= want then v.add("gather %d: item %d ended %s, expected %s", i, j, how, want) end
      end
    end

    local r = load.churn({
      n = math.huge, phase = phase, body = caller, tick = TICK, width = 100, batch = 5, cancels = 1,
      more = function() return planned < N end,
      step = function() cancel_some(pool, item_requested, math.random(0, 6)) end,
    })
    cancel_some(pool, item_requested, 0)
    load.assert_churn(r, r.spawned, {"starting", "gathering"})
    v.assert_none("gathers")
    assert.equals(N, planned)
    assert.equals(0, running, "items still running")
    assert.equals(started, load.sum(callers), "caller outcomes counted")
    assert.equals(r.spawned, started + r.cancelled_in.starting, "callers started or cancelled before they ran")
    for _, what in ipairs({"returned", "returned with exceptions", "ItemError", "CancelledError",
                           "cancelled from outside"}) do
      assert.is_true(callers[what] > 0, "no gather ended " .. what)
    end
    assert_no_task_left(heap)
    load.report("gather callers", r, {items_done = items.done, items_failed = items.ItemError,
                               items_cancelled_running = items.CancelledError,
                               items_never_ran = N - load.sum(items)})
  end)
end)
