# Two tasks pass N messages back and forth over two channels of capacity
# 1: messages per second.
use "std/async"
use "std/sys"
use "std/time"

let n = 1000000
if sys.argv.len() > 1
    n = sys.argv[1].to_int()
end
async fun ping(to_pong, to_ping, rounds)
    let i = 0
    while i < rounds
        await to_pong.send(i)
        await to_ping.recv()
        i = i + 1
    end
end

async fun pong(to_pong, to_ping, rounds)
    let i = 0
    while i < rounds
        let v = await to_pong.recv()
        await to_ping.send(v + 1)
        i = i + 1
    end
end

let to_pong = async.channel(1)
let to_ping = async.channel(1)
let t0 = time.ticks_ms()
await async.join_all([pong(to_pong, to_ping, n / 2), ping(to_pong, to_ping, n / 2)])
let t1 = time.ticks_ms()
if t1 > t0
    puts((n / ((t1 - t0) / 1000.0)).str())
end
