# N tasks each sleeping 1 s at once (the runner measures wall time and
# peak RSS).
use "std/async"
use "std/sys"

let n = sys.argv[1].to_int()

async fun sleeper()
    await async.sleep(1)
end

async fun main()
    let tasks = []
    let i = 0
    while i < n
        tasks.push(sleeper())
        i = i + 1
    end
    for t in tasks
        await t
    end
end

await main()
