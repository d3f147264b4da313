# Insert 1M keys into a dict, then look each one up.
fun run()
    let d = {}
    for i in 0 until 1000000
        d["key" .. i] = i
    end
    let sum = 0
    for i in 0 until 1000000
        sum += d["key" .. i]
    end
    sum
end
puts(run())
