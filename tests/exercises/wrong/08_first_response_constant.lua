-- Wrong: prints what the tutorial would print and returns a made-up answer.
local M = {}
function M.first_response(mirrors)
  print("Mirror 3 answered first; cancelled the others")
  return {data = "Data from mirror 3"}
end
return M
