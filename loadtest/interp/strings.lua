local function run()
    local parts = {}
    for i = 0, 999999 do
        parts[#parts + 1] = "item" .. i
    end
    return #table.concat(parts, ",")
end
print(run())
