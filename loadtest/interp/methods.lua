local Counter = {}
Counter.__index = Counter
function Counter.new(count) return setmetatable({count = count}, Counter) end
function Counter:add(n) self.count = self.count + n return self end
function Counter:get() return self.count end

local function run()
    local c = Counter.new(0)
    local i = 0
    while i < 1000000 do
        c:add(i % 7)
        i = i + c:get() % 2
        i = i + 1
    end
    return c:get()
end
print(run())
