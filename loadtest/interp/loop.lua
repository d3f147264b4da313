local function run()
    local acc = 0
    local i = 0
    while i < 10000000 do
        acc = (acc + i * 3) % 1000003
        i = i + 1
    end
    return acc
end
print(run())
