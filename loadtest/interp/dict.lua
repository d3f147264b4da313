local function run()
    local d = {}
    for i = 0, 999999 do
        d["key" .. i] = i
    end
    local sum = 0
    for i = 0, 999999 do
        sum = sum + d["key" .. i]
    end
    return sum
end
print(run())
