-- timeline.lua -- draws the record timeline.c kept of a run: lanes on stderr
-- (--timeline), an SVG picture (--timeline=FILE.svg), the replay page
-- (--timeline=FILE.html: timeline_page.lua's page with the record as JSON),
-- and Chrome Trace Event JSON (--trace FILE) that Perfetto and
-- chrome://tracing open.
-- Called once, with (events, names, info): events in time order, each
-- {time = s, task = id, state = name, waker = id or 0}; names[id] = the task's
-- name; info = {virtual, duration, since, draw_to, trace_to, incomplete,
-- rows, columns (the terminal's size, when it is one); for a page also
-- details[event index] = {wait, where, deadline, on (the number of the lock
-- or semaphore waited on)}, holders = list of {event index, primitive
-- number, kind, {holder ids}, more}, and page, the page's HTML}.
-- draw_to: nil (no lanes), "" (stderr), "text" (returned as a string: the
-- REPL's :timeline), an HTML path (*.html, *.htm) or an SVG path. With since > 0 only the window from
-- `since` to the end is drawn (the REPL's last N seconds).
local events, names, info = ...

-- What a state looks like: its glyph in the lanes, its colour in the SVG, and
-- its weight when several share one column (the most telling one shows).
local STYLES = {
  running = {"#", "#d62728", 5, "running"},
  ready = {"+", "#ff7f0e", 4, "ready"},
  awaiting = {"=", "#1f77b4", 3, "awaiting a task"},
  ["task group"] = {"g", "#9ecae1", 3, "waiting for its task group"},
  semaphore = {"s", "#9467bd", 3, "semaphore"},
  ["bounded_semaphore"] = {"s", "#9467bd", 3, "semaphore"},
  lock = {"L", "#8c564b", 3, "lock"},
  event = {"e", "#e377c2", 3, "event"},
  condition = {"c", "#bcbd22", 3, "condition"},
  ["queue get"] = {"q", "#17becf", 3, "queue"},
  ["queue put"] = {"q", "#17becf", 3, "queue"},
  ["queue join"] = {"q", "#17becf", 3, "queue"},
  thread = {"T", "#2ca02c", 3, "thread"},
  io = {"I", "#393b79", 3, "I/O"},
  ["console input"] = {"i", "#7f7f7f", 3, "console input"},
  sleeping = {".", "#c7c7c7", 2, "sleeping"},
}
local OTHER = {"?", "#7f7f7f", 3, "waiting"}
-- How a task ended: its glyph, and its colour and word in the SVG (apart
-- from every state's colour, and written beside the end of a task that did
-- not simply finish, so a failure and the cancellations it caused stand out).
local ENDS = {
  done = {"|", "#2ca02c", "done"},
  failed = {"X", "#7f0000", "failed"},
  cancelled = {"C", "#000000", "cancelled"},
}
local MAX_LANES_TEXT = 40   -- past this many tasks (or the terminal's height) lanes fold
local MAX_LANES_SVG = 400

local function style(state) return STYLES[state] or OTHER end

local function open_for_writing(path)
  local f, err = io.open(path, "w")
  if not f then error(err, 0) end
  return f
end

-- ---- from events to lanes ----

-- Each task: {id, name, start, finish, ending, spans = {{state, from, to}}}.
local function build_lanes()
  local by_id, lanes = {}, {}
  for _, e in ipairs(events) do
    local lane = by_id[e.task]
    if not lane then
      lane = {id = e.task, name = names[e.task] or ("task-" .. e.task), start = e.time, spans = {}}
      by_id[e.task] = lane
      lanes[#lanes + 1] = lane
    end
    local open = lane.spans[#lane.spans]
    if open and open.to == nil then open.to = e.time end
    if ENDS[e.state] then
      lane.finish, lane.ending = e.time, e.state
    elseif not lane.ending then
      lane.spans[#lane.spans + 1] = {state = e.state, from = e.time, waker = e.waker}
    end
  end
  for _, lane in ipairs(lanes) do
    local open = lane.spans[#lane.spans]
    if open and open.to == nil then open.to = info.duration end
  end
  table.sort(lanes, function(a, b) return a.id < b.id end)
  return lanes
end

-- Keeps what happened from `since` on, with times counted from `since`.
local function window(lanes, since)
  if since <= 0 then return lanes end
  local kept = {}
  for _, lane in ipairs(lanes) do
    if not lane.finish or lane.finish >= since then
      local spans = {}
      for _, span in ipairs(lane.spans) do
        if span.to >= since then
          spans[#spans + 1] = {state = span.state, waker = span.waker,
                               from = math.max(span.from, since) - since, to = span.to - since}
        end
      end
      kept[#kept + 1] = {id = lane.id, name = lane.name, spans = spans, ending = lane.ending,
                         start = math.max(lane.start, since) - since,
                         finish = lane.finish and lane.finish - since}
    end
  end
  return kept
end

local function seconds(t)
  if t == 0 then return "0" end
  if t >= 100 then return string.format("%.0f s", t) end
  local text, unit = string.format("%.2f", t), " s"
  if t < 1 then text, unit = string.format("%.1f", t * 1000), " ms" end
  return (text:gsub("%.?0+$", "")) .. unit
end

-- The smallest of 1, 2, 2.5, 5 times a power of ten that is >= x: a step
-- that makes the axis read in round numbers.
local function nice_step(x)
  if x <= 0 then return 1 end
  local power = 10 ^ math.floor(math.log(x, 10))
  for _, m in ipairs({1, 2, 2.5, 5, 10}) do
    if m * power >= x * (1 - 1e-9) then return m * power end
  end
  return 10 * power
end

local function clock_name() return info.virtual and "virtual time" or "real time" end

-- ---- lanes on stderr ----

-- Paints one lane's spans into `cells` (glyph and weight per column).
local function paint(cells, lane, width, scale)
  local function column(t) return math.min(width, math.floor(t * scale) + 1) end
  for _, span in ipairs(lane.spans) do
    local s = style(span.state)
    local last = math.max(column(span.from), math.ceil(span.to * scale))
    for c = column(span.from), math.min(last, width) do
      local cell = cells[c]
      if not cell or cell[2] < s[3] then cells[c] = {s[1], s[3], s[4]} end
    end
  end
  if lane.ending then
    local e = ENDS[lane.ending]
    cells[column(lane.finish)] = {e[1], 9, e[3]}
  end
end

local function render_cells(cells, width)
  local out = {}
  for c = 1, width do out[c] = cells[c] and cells[c][1] or " " end
  return table.concat(out)
end

local function axis(width, scale, indent, offset)
  local line = {}
  for c = 1, width + 10 do line[c] = " " end
  local step = 10
  for c = 1, width, step do
    local label = seconds(offset + (c - 1) / scale)
    if c + #label - 1 <= width + 10 then
      for i = 1, #label do line[c + i - 1] = label:sub(i, i) end
    end
  end
  local ticks = {}
  for c = 1, width do ticks[c] = (c - 1) % step == 0 and "'" or "-" end
  return indent .. table.concat(line):gsub("%s+$", ""), indent .. table.concat(ticks)
end

local function draw_text(lanes, out, since)
  local columns = tonumber(os.getenv("COLUMNS")) or info.columns or 100
  local max_lanes = info.rows and math.max(10, info.rows - 8) or MAX_LANES_TEXT
  local duration = info.duration - since
  local name_width = 6
  local shown = #lanes > max_lanes and max_lanes - 1 or #lanes
  local fold_label = string.format("+%d more", #lanes - shown)
  for i = 1, shown do name_width = math.max(name_width, math.min(#lanes[i].name, 20)) end
  if shown < #lanes then name_width = math.max(name_width, #fold_label) end
  local max_width = math.max(20, math.min(100, columns - name_width - 14))
  -- one column is a round duration, and the lanes just cover the run
  local column_time = nice_step(math.max(duration, 1e-9) / max_width)
  local width = math.max(1, math.ceil(duration / column_time - 1e-9))
  local scale = 1 / column_time
  local indent = string.rep(" ", name_width + 2)
  local used = {}

  local span = since > 0 and string.format("the last %s (to %s)", seconds(duration), seconds(info.duration))
                          or seconds(duration)
  out:write(string.format("asched timeline: %d task%s over %s (%s), one column = %s\n",
    #lanes, #lanes == 1 and "" or "s", span, clock_name(), seconds(1 / scale)))
  local labels, ticks = axis(width, scale, indent, since)
  out:write(labels, "\n", ticks, "\n")

  local function row(name, cells, tail)
    for _, cell in pairs(cells) do used[cell[1]] = cell[3] end
    out:write(string.format("%-" .. name_width .. "s |%s  %s\n",
      name:sub(1, name_width), render_cells(cells, width), tail))
  end
  for i = 1, shown do
    local lane, cells = lanes[i], {}
    paint(cells, lane, width, scale)
    row(lane.name, cells, lane.ending or "unfinished")
  end
  if shown < #lanes then
    local cells, counts = {}, {}
    for i = shown + 1, #lanes do
      paint(cells, lanes[i], width, scale)
      local ending = lanes[i].ending or "unfinished"
      counts[ending] = (counts[ending] or 0) + 1
    end
    local parts = {}
    for _, k in ipairs({"done", "failed", "cancelled", "unfinished"}) do
      if counts[k] then parts[#parts + 1] = counts[k] .. " " .. k end
    end
    row(fold_label, cells, "")
    out:write(string.format("%s(%d tasks past the first %d are folded into the last lane, "
      .. "each column showing the busiest state among them: %s)\n",
      indent, #lanes - shown, shown, table.concat(parts, ", ")))
  end

  local legend = {}
  local order = {"#", "+", "=", "s", "L", "e", "c", "q", "T", "I", "i", "?", ".", "|", "X", "C"}
  for _, glyph in ipairs(order) do
    if used[glyph] then legend[#legend + 1] = glyph .. " " .. used[glyph] end
  end
  out:write(indent, "legend: ", table.concat(legend, "  "), "\n")
  if info.incomplete then out:write(indent, "(out of memory while recording: incomplete)\n") end
end

-- ---- the SVG picture ----

local function xml(s)
  return (tostring(s):gsub("[&<>\"]", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end

local function draw_svg(lanes, path)
  local shown = math.min(#lanes, MAX_LANES_SVG)
  local left, right, top, lane_h, plot_w = 150, 90, 50, 18, 760
  local height = top + (shown + (shown < #lanes and 1 or 0)) * lane_h + 70
  local width = left + plot_w + right
  local scale = plot_w / math.max(info.duration, 1e-9)
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
    .. 'font-family="monospace" font-size="12">', width, height)
  add('<rect width="100%%" height="100%%" fill="white"/>')
  add('<text x="10" y="20" font-size="14">asched timeline: %d tasks over %s (%s)</text>',
    #lanes, xml(seconds(info.duration)), clock_name())
  local tick = nice_step(math.max(info.duration, 1e-9) / 10)
  for i = 0, math.floor(info.duration / tick + 1e-9) do
    local x = left + i * tick * scale
    add('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>', x, top - 5, x, height - 60)
    add('<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>', x, top - 10,
      xml(seconds(i * tick)))
  end
  local used = {}
  for i = 1, shown do
    local lane, y = lanes[i], top + (i - 1) * lane_h
    add('<text x="%d" y="%d" text-anchor="end">%s</text>', left - 8, y + 13, xml(lane.name:sub(1, 20)))
    -- turns last, so a turn that takes no time still shows over its neighbours
    local spans = {}
    for _, span in ipairs(lane.spans) do
      if span.state ~= "running" then spans[#spans + 1] = span end
    end
    for _, span in ipairs(lane.spans) do
      if span.state == "running" then spans[#spans + 1] = span end
    end
    for _, span in ipairs(spans) do
      local s = style(span.state)
      used[s[4]] = s[2]
      local w = math.max((span.to - span.from) * scale, span.state == "running" and 2 or 0)
      if w > 0 then
        add('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s from %s</title></rect>',
          left + span.from * scale, y + 3, w, lane_h - 6, s[2], xml(lane.name), s[4], seconds(span.from))
      end
    end
    if lane.ending then
      local e = ENDS[lane.ending]
      used[e[3]] = e[2]
      local x = left + lane.finish * scale
      add('<rect x="%.1f" y="%d" width="3" height="%d" fill="%s"><title>%s %s at %s</title></rect>',
        x, y + 1, lane_h - 2, e[2], xml(lane.name), e[3], seconds(lane.finish))
      if lane.ending ~= "done" then
        add('<text x="%.1f" y="%d" font-size="10" fill="%s">%s</text>', x + 6, y + 12, e[2], e[3])
      end
    end
  end
  if shown < #lanes then
    add('<text x="%d" y="%d">(%d more tasks not drawn)</text>', left, top + shown * lane_h + 13, #lanes - shown)
  end
  local x, y = 10, height - 30
  local keys = {}
  for k in pairs(used) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    add('<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>',
      x, y, used[k], x + 16, y + 11, xml(k))
    x = x + 24 + #k * 8
  end
  add('</svg>')
  local f = open_for_writing(path)
  f:write(table.concat(out, "\n"), "\n")
  f:close()
end

-- ---- Chrome Trace Event JSON ----

local function json_string(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- ---- the replay page ----

-- `v` as JSON: nil, booleans, numbers, strings, and tables that are lists
-- (of v.n items when it has n: nil items in it are nulls).
-- "<" is escaped too, so the JSON can sit inside a <script> element.
local function json(v)
  local kind = type(v)
  if v == nil then return "null" end
  if kind == "boolean" then return tostring(v) end
  if kind == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    return (string.format("%.9g", v))
  end
  if kind == "string" then return (json_string(v):gsub("<", "\\u003c")) end
  local parts = {}
  for i = 1, v.n or #v do parts[i] = json(v[i]) end
  return "[" .. table.concat(parts, ",") .. "]"
end

-- The page reads the record itself: events as [time, task, state, waker,
-- wait, where, deadline, on], names as [id, name], holders as timeline.c
-- logs them.
local function draw_html(path)
  local rows, seen, named = {}, {}, {}
  for i, e in ipairs(events) do
    local d = info.details and info.details[i] or {}
    rows[i] = {e.time, e.task, e.state, e.waker, d.wait, d.where, d.deadline, d.on, n = 8}
    if not seen[e.task] then
      seen[e.task] = true
      named[#named + 1] = {e.task, names[e.task] or ("task-" .. e.task)}
    end
  end
  local data = string.format('{"virtual":%s,"duration":%s,"incomplete":%s,"names":%s,"events":%s,"holders":%s}',
    json(info.virtual), json(info.duration), json(info.incomplete), json(named), json(rows),
    json(info.holders or {}))
  local page = assert(info.page, "no page template")
  local at = assert(page:find("/*DATA*/", 1, true), "no data slot in the page")
  local f = open_for_writing(path)
  f:write(page:sub(1, at - 1), data, page:sub(at + #"/*DATA*/"))
  f:close()
end

local function micros(t) return string.format("%.3f", t * 1e6) end

local function write_trace(lanes, path)
  local out = {}
  local function add(s) out[#out + 1] = s end
  add(string.format('{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":%s}}',
    json_string("asched (" .. clock_name() .. ")")))
  local next_running, flow = {}, 0
  for _, lane in ipairs(lanes) do
    add(string.format('{"name":"thread_name","ph":"M","pid":1,"tid":%d,"args":{"name":%s}}',
      lane.id, json_string(lane.name)))
    add(string.format('{"name":"thread_sort_index","ph":"M","pid":1,"tid":%d,"args":{"sort_index":%d}}',
      lane.id, lane.id))
    for i, span in ipairs(lane.spans) do
      add(string.format('{"name":%s,"cat":"task","ph":"X","pid":1,"tid":%d,"ts":%s,"dur":%s}',
        json_string(span.state), lane.id, micros(span.from), micros(span.to - span.from)))
      if span.state == "ready" and span.waker ~= 0 then
        for j = i + 1, #lane.spans do
          if lane.spans[j].state == "running" then next_running[span] = lane.spans[j]; break end
        end
      end
    end
    if lane.ending then
      add(string.format('{"name":%s,"cat":"task","ph":"i","s":"t","pid":1,"tid":%d,"ts":%s}',
        json_string(lane.ending), lane.id, micros(lane.finish)))
    end
  end
  -- A wake-up: an arrow from the waker's running slice to the woken task's
  -- next running slice.
  for _, lane in ipairs(lanes) do
    for _, span in ipairs(lane.spans) do
      local target = next_running[span]
      if target then
        flow = flow + 1
        add(string.format('{"name":"wake","cat":"wake","ph":"s","id":%d,"pid":1,"tid":%d,"ts":%s}',
          flow, span.waker, micros(span.from)))
        add(string.format('{"name":"wake","cat":"wake","ph":"f","bp":"e","id":%d,"pid":1,"tid":%d,"ts":%s}',
          flow, lane.id, micros(target.from)))
      end
    end
  end
  local f = open_for_writing(path)
  f:write('{"displayTimeUnit":"ms","traceEvents":[\n', table.concat(out, ",\n"), "\n]}\n")
  f:close()
end

local lanes = build_lanes()
if info.draw_to == "text" then
  local since = info.since or 0
  local text = {}
  draw_text(window(lanes, since), {write = function(self, ...)
    for i = 1, select("#", ...) do text[#text + 1] = select(i, ...) end
    return self
  end}, since)
  return (table.concat(text):gsub("\n$", ""))
elseif info.draw_to == "" then
  draw_text(lanes, io.stderr, 0)
elseif info.draw_to and info.draw_to:match("%.html?$") then
  draw_html(info.draw_to)
elseif info.draw_to then
  draw_svg(lanes, info.draw_to)
end
if info.trace_to then write_trace(lanes, info.trace_to) end
