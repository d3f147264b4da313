# Build 1M strings and join them.
fun run()
    let parts = []
    for i in 0 until 1000000
        parts.push("item" .. i)
    end
    parts.join(",").len()
end
puts(run())
