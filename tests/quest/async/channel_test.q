# Channels: bounded and unbounded, backpressure, closing, the try_ forms,
# and cancelling a task blocked on a channel.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises}
use "std/async"

module("Async: channels")

fun run(body)
    async.block_on(body)
end

async fun error_of(task)
    try
        await task
    catch e
        return e
    end
    nil
end

describe("async.channel", fun ()
    it("is unbounded without a capacity", fun ()
        let c = async.channel()
        assert_eq(c.cls(), "Channel")
        assert_nil(c.capacity())
        for i in 0 until 1000
            assert(c.send(i).is_finished())
        end
        assert_eq(c.len(), 1000)
    end)

    it("takes the capacity positionally or as capacity:", fun ()
        assert_eq(async.channel(3).capacity(), 3)
        assert_eq(async.channel(capacity: 4).capacity(), 4)
        assert_nil(async.channel(capacity: nil).capacity())
    end)

    it("rejects a negative or non-Int capacity", fun ()
        assert_raises(ValueErr, fun () async.channel(-1) end)
        assert_raises(TypeErr, fun () async.channel("2") end)
        assert_raises(ArgErr, fun () async.channel(size: 2) end)
    end)
end)

describe("send and recv", fun ()
    it("delivers values in order", fun ()
        let c = async.channel()
        run(async fun ()
            for i in 0 until 5
                await c.send(i * 10)
            end
            let got = []
            for i in 0 until 5
                got.push(await c.recv())
            end
            assert_eq(got, [0, 10, 20, 30, 40])
        end)
    end)

    it("recv waits for a sender", fun ()
        let c = async.channel()
        let r = c.recv()
        assert(not r.is_finished())
        c.send("hello")
        assert_eq(async.block_on(r), "hello")
    end)

    it("a bounded channel of capacity 2 blocks the third send until a recv", fun ()
        let c = async.channel(2)
        let s1 = c.send(1)
        let s2 = c.send(2)
        let s3 = c.send(3)
        assert(s1.is_finished())
        assert(s2.is_finished())
        assert(not s3.is_finished())
        assert_eq(c.len(), 2)
        assert_eq(async.block_on(c.recv()), 1)
        assert(s3.is_finished())
        assert_eq(c.len(), 2)
        assert_eq(async.block_on(c.recv()), 2)
        assert_eq(async.block_on(c.recv()), 3)
    end)

    it("keeps a producer at most capacity ahead of its consumer", fun ()
        let c = async.channel(2)
        let log = []
        async fun producer()
            for i in 0 until 6
                await c.send(i)
                log.push("sent " .. i)
            end
            c.close()
        end
        async fun consumer()
            let v = await c.recv()
            while v != nil
                log.push("got " .. v)
                await async.sleep(0.001)
                v = await c.recv()
            end
        end
        let p = producer()
        assert_eq(log, ["sent 0", "sent 1"])
        run(async fun () await async.join_all([p, consumer()]) end)
        assert_eq(log.len(), 12)
    end)

    it("a capacity 0 channel hands each value straight to a receiver", fun ()
        let c = async.channel(0)
        let s = c.send("x")
        assert(not s.is_finished())
        assert_eq(c.len(), 0)
        assert_eq(async.block_on(c.recv()), "x")
        assert(s.is_finished())
    end)
end)

describe("try_send and try_recv", fun ()
    it("try_send is false when the channel is full", fun ()
        let c = async.channel(1)
        assert(c.try_send(1))
        assert(not c.try_send(2))
        assert_eq(c.try_recv(), 1)
    end)

    it("try_recv is nil when the channel is empty", fun ()
        let c = async.channel()
        assert_nil(c.try_recv())
        c.send(5)
        assert_eq(c.try_recv(), 5)
    end)

    it("try_recv lets a blocked sender in", fun ()
        let c = async.channel(1)
        c.send(1)
        let s = c.send(2)
        assert_eq(c.try_recv(), 1)
        assert(s.is_finished())
        assert_eq(c.try_recv(), 2)
    end)
end)

describe("close", fun ()
    it("drains buffered values, then recv gives nil", fun ()
        let c = async.channel()
        c.send(1)
        c.send(2)
        c.close()
        assert(c.is_closed())
        assert_eq(async.block_on(c.recv()), 1)
        assert_eq(async.block_on(c.recv()), 2)
        assert_nil(async.block_on(c.recv()))
        assert_nil(async.block_on(c.recv()))
    end)

    it("wakes waiting receivers with nil", fun ()
        let c = async.channel()
        let r1 = c.recv()
        let r2 = c.recv()
        c.close()
        assert_nil(async.block_on(r1))
        assert_nil(async.block_on(r2))
    end)

    it("makes send raise", fun ()
        let c = async.channel()
        c.close()
        assert_raises(RuntimeErr, fun () c.send(1) end)
        assert_raises(RuntimeErr, fun () c.try_send(1) end)
    end)

    it("fails senders blocked on a full channel", fun ()
        let c = async.channel(1)
        c.send(1)
        let s = c.send(2)
        c.close()
        assert_raises(RuntimeErr, fun () async.block_on(s) end)
        assert_eq(c.try_recv(), 1)
    end)

    it("is idempotent", fun ()
        let c = async.channel()
        c.close()
        c.close()
        assert(c.is_closed())
    end)
end)

describe("cancelling a task blocked on a channel", fun ()
    it("frees a task blocked in recv at once and runs its ensure", fun ()
        let c = async.channel()
        let log = []
        async fun reader()
            try
                await c.recv()
            ensure
                log.push("ensure")
            end
        end
        let t = reader()
        t.cancel()
        let e = async.block_on(fun () error_of(t) end)
        assert(e.is(CancelledErr))
        assert_eq(log, ["ensure"])
    end)

    it("does not lose the next value to the cancelled receiver", fun ()
        let c = async.channel()
        async fun reader() await c.recv() end
        let gone = reader()
        gone.cancel()
        let r = c.recv()
        c.send("kept")
        assert_eq(async.block_on(r), "kept")
    end)

    it("drops the value of a cancelled blocked sender", fun ()
        let c = async.channel(1)
        c.send(1)
        async fun writer() await c.send(2) end
        let w = writer()
        w.cancel()
        async.block_on(fun () error_of(w) end)
        assert_eq(c.try_recv(), 1)
        assert_nil(c.try_recv())
    end)
end)

# `await c.recv()` takes a ready value without a Task and waits on a task
# its task reuses: what it returns must not change.
describe("await recv() in a loop", fun ()
    it("yields a Task sent through the channel as the Task", fun ()
        let c = async.channel()
        let sent = async.spawn(fun () 5 end)
        c.send(sent)
        run(async fun ()
            let got = await c.recv()
            assert_eq(got.cls(), "Task")
            assert_eq(got.id(), sent.id())
        end)
    end)

    it("gets every value in order, waiting for most of them", fun ()
        let c = async.channel()
        async fun consumer()
            let got = []
            let v = await c.recv()
            while v != nil
                got.push(v)
                v = await c.recv()
            end
            got
        end
        async fun producer()
            for i in 0 until 50
                c.send(i)
                if i % 3 == 0
                    c.send("+" .. i) # sometimes one is ready before the recv
                end
                await async.sleep(0)
            end
            c.close()
        end
        let got = run(async fun ()
            let t = consumer()
            await producer()
            await t
        end)
        assert_eq(got.len(), 67)
        assert_eq(got[0], 0)
        assert_eq(got[1], "+0")
        assert_eq(got[66], 49)
    end)

    it("shares values between waiting tasks in the order they waited", fun ()
        let c = async.channel()
        let log = []
        async fun reader(name)
            for _ in 0 until 3
                log.push(name .. (await c.recv()))
            end
        end
        run(async fun ()
            let a = reader("a")
            let b = reader("b")
            for i in 0 until 6
                await async.sleep(0)
                c.send(i)
            end
            await async.join_all([a, b])
        end)
        assert_eq(log, ["a0", "b1", "a2", "b3", "a4", "b5"])
    end)

    it("lets a task cancelled while waiting wait again in its ensure", fun ()
        let c = async.channel()
        let log = []
        async fun reader()
            await c.recv() # first wait: the task still runs inline
            try
                await c.recv()
            ensure
                log.push(await c.recv())
            end
        end
        async fun other() log.push("other " .. (await c.recv())) end
        let t = reader()
        c.send("first")
        run(async fun () await async.sleep(0) end)
        t.cancel()
        let o = other() # waits before the ensure does
        run(async fun () await async.sleep(0) end)
        c.send("a")
        c.send("b")
        let e = run(fun () error_of(t) end)
        assert(e.is(CancelledErr))
        run(fun () o end)
        assert_eq(log, ["other a", "b"])
        assert_eq(c.len(), 0)
    end)

    it("gives a recv inside an awaited call's callback its Task", fun ()
        let c = async.channel()
        c.send(1)
        run(async fun ()
            let got = await [0].map(fun (x) c.recv() end)
            assert_eq(got[0].cls(), "Task")
            assert_eq(await got[0], 1)
        end)
    end)

    it("keeps a recv that is not awaited at once a Task of its own", fun ()
        let c = async.channel()
        run(async fun ()
            c.send(1)
            let ready = c.recv()
            assert_eq(ready.cls(), "Task")
            assert(ready.is_finished())
            let r1 = c.recv()
            let r2 = c.recv()
            assert(r1.id() != r2.id())
            c.send(2)
            c.send(3)
            assert_eq([await ready, await r1, await r2], [1, 2, 3])
            let w = c.recv()
            c.send(4)
            assert_eq(await w, 4)
        end)
    end)
end)
