-- Wrong: returns a made-up list without running the pipeline.
local M = {}
function M.pipeline(produce, consume, queue_size)
  print("consumed 8 items")
  return {"result 1", "result 2", "result 3", "result 4", "result 5", "result 6", "result 7", "result 8"}
end
return M
