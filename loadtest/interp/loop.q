# A 10M-iteration loop with integer arithmetic.
fun run()
    let acc = 0
    let i = 0
    while i < 10000000
        acc = (acc + i * 3) % 1000003
        i += 1
    end
    acc
end
puts(run())
