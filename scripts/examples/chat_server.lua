-- chat_server.lua -- a TCP chat room: each line a client sends goes to every
-- other client. One task per connection reads lines into one shared queue; a
-- broadcaster task takes them out and puts each into every member's own
-- bounded queue; a writer task per member sends from that queue. A member
-- too slow to keep up loses messages (put_nowait fails) instead of holding
-- the whole room back.
--
--   asched scripts/examples/chat_server.lua            a demo with three clients
--   asched scripts/examples/chat_server.lua serve 7000  serve until Ctrl-C
--     (then, in other terminals: nc 127.0.0.1 7000)

local room = asched.queue()          -- {from =, text =} from every member
local members = {}                   -- name -> {inbox = queue}
local next_id = 0

local function broadcaster()
  while true do
    local msg = room:get()
    for name, m in pairs(members) do
      if name ~= msg.from then
        pcall(m.inbox.put_nowait, m.inbox, msg.from .. ": " .. msg.text .. "\n")   -- full: dropped
      end
    end
  end
end

-- One connection: a writer task sends the member's inbox; this task reads.
local function member(stream)
  next_id = next_id + 1
  local name = "guest" .. next_id
  local me = {inbox = asched.queue(100)}
  members[name] = me
  local writer = asched.spawn(function()
    while true do stream:write(me.inbox:get()) end
  end)
  local leave <close> = setmetatable({}, {__close = function()
    members[name] = nil
    writer:cancel()
    room:put_nowait({from = "server", text = name .. " left"})
  end})
  stream:write("welcome, " .. name .. "\n")
  room:put({from = "server", text = name .. " joined"})
  for line in function() return stream:read_line() end do
    room:put({from = name, text = line})
  end
end

local broadcasting = asched.spawn(broadcaster)

if arg[1] == "serve" then
  local server <close> = asched.tcp.listen("127.0.0.1", tonumber(arg[2]) or 7000, member)
  print("chat on 127.0.0.1:" .. server.port .. "  (Ctrl-C stops)")
  asched.event():wait()
end

-- The demo: three clients on the same loop. Each says one line once all
-- have joined, then reads until it has heard the other two.
local server <close> = asched.tcp.listen(nil, 0, member)
local all_joined = asched.barrier(3)

local function client(word)
  local s <close> = asched.tcp.connect("127.0.0.1", server.port)
  local me = s:read_line():match("welcome, (%S+)")
  all_joined:wait()
  asched.sleep(0.1)                  -- every "joined" line has gone round
  s:write(word .. "\n")
  local heard = {}
  while #heard < 2 do
    local line = s:read_line()
    if not line:match("^server:") then heard[#heard + 1] = line end
  end
  table.sort(heard)
  return me .. " heard " .. table.concat(heard, " and ")
end

local r = asched.gather({
  function() return client("hello") end,
  function() return client("hi there") end,
  function() return client("good morning") end,
})
for i = 1, r.n do print(r[i]) end

-- The clients have hung up; their member tasks see the end of their streams
-- and leave. Then the room closes.
while next(members) do asched.sleep(0.01) end
broadcasting:cancel()
print("everyone left; the room is closed")
