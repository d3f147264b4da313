# Start N trivial tasks and await them: microseconds per task.
#   spawn_await.q seq [N]     start one, await it, then the next
#   spawn_await.q batch [N]   start all N, then await each
use "std/async"
use "std/sys"
use "std/time"

let mode = sys.argv[1]
let n = 1000000
if sys.argv.len() > 2
    n = sys.argv[2].to_int()
end

async fun trivial(i)
    i + 1
end

async fun one_at_a_time()
    let sum = 0
    let i = 0
    while i < n
        sum = sum + await trivial(i)
        i = i + 1
    end
    sum
end

async fun all_then_await()
    let tasks = []
    let i = 0
    while i < n
        tasks.push(trivial(i))
        i = i + 1
    end
    let sum = 0
    for t in tasks
        sum = sum + await t
    end
    sum
end

let t0 = time.ticks_ms()
let sum = nil
if mode == "seq"
    sum = await one_at_a_time()
else
    sum = await all_then_await()
end
let t1 = time.ticks_ms()
if sum != n * (n + 1) / 2
    raise "wrong sum " .. sum
end
if n > 0
    puts(((t1 - t0) * 1000.0 / n).str())
end
