# The cost of async: N calls of a function doing real work (a loop of 200
# multiply-adds), called synchronously (`overhead.q sync N`) or as an async
# function awaited at each call (`overhead.q async N`).  The runner compares
# the CPU time of the two.
use "std/async"
use "std/sys"

let mode = sys.argv[1]
let n = sys.argv[2].to_int()

fun work(k)
    let acc = 0
    let i = 0
    while i < 200
        acc = (acc * 31 + i + k) % 1000003
        i = i + 1
    end
    acc
end

async fun work_async(k)
    let acc = 0
    let i = 0
    while i < 200
        acc = (acc * 31 + i + k) % 1000003
        i = i + 1
    end
    acc
end

async fun main()
    let total = 0
    let k = 0
    if mode == "sync"
        while k < n
            total = total + work(k)
            k = k + 1
        end
    else
        while k < n
            total = total + await work_async(k)
            k = k + 1
        end
    end
    total
end

puts(await main())
