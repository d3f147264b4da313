# std/db/sqlite, async pool (sqlite.open): queries on the thread pool,
# transactions, leases, exhaustion and timeouts, cancellation, many tasks.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_lt, assert_raises}
use "std/db/sqlite"
use "std/db/sqlite" {DatabaseErr, IntegrityErr, ProgrammingErr, OperationalErr}
use "std/async"
use "std/io"
use "std/time"

module("std/db/sqlite pool")

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

let dir = io.temp_dir()
let n_dbs = 0

# A pool on a new file with table t.
fun fresh(size)
    n_dbs += 1
    let db = sqlite.open(dir .. "/pool" .. n_dbs .. ".db", pool: size)
    run(async fun ()
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER)")
    end)
    db
end

describe("queries", fun ()
    it("fetches all, one, a value, and counts changes", fun ()
        let db = fresh(3)
        run(async fun ()
            assert_eq(await db.execute("INSERT INTO t (name, n) VALUES (?, ?), (?, ?)", ["a", 1, "b", 2]), 2)
            assert_eq(await db.fetch_all("SELECT name, n FROM t ORDER BY id"), [{name: "a", n: 1}, {name: "b", n: 2}])
            assert_eq(await db.fetch_one("SELECT name FROM t WHERE n = :n", {n: 2}), {name: "b"})
            assert_nil(await db.fetch_one("SELECT name FROM t WHERE n = 99"))
            assert_eq(await db.fetch_val("SELECT count(*) FROM t"), 2)
            assert_nil(await db.fetch_val("SELECT n FROM t WHERE n = 99"))
            assert_eq(await db.fetch_all("INSERT INTO t (name) VALUES ('c') RETURNING id"), [{id: 3}])
            assert_eq(await db.fetch_val("PRAGMA journal_mode"), "wal")
        end)
        db.close()
    end)

    it("raises the error family through await", fun ()
        let db = fresh(2)
        run(async fun ()
            await db.execute("INSERT INTO t (name) VALUES ('a')")
            let e = await error_of(db.execute("INSERT INTO t (name) VALUES ('a')"))
            assert_eq(e.type(), IntegrityErr)
            assert_eq((await error_of(db.fetch_all("SELEC"))).type(), ProgrammingErr)
        end)
        db.close()
    end)

    it("keeps a :memory: pool on one connection (one database)", fun ()
        let db = sqlite.open(":memory:", pool: 4)
        assert_eq(db.stats()["size"], 1)
        run(async fun ()
            await db.execute("CREATE TABLE m (x)")
            await db.execute("INSERT INTO m VALUES (1)")
            assert_eq(await db.fetch_val("SELECT count(*) FROM m"), 1)
        end)
        db.close()
    end)

    it("serves 1000 concurrent tasks", fun ()
        let db = fresh(4)
        run(async fun ()
            let tasks = []
            for i in 0 until 1000
                tasks.push(db.fetch_val("SELECT ? + 1", [i]))
            end
            let sum = 0
            for t in tasks
                sum += await t
            end
            assert_eq(sum, 500500)
        end)
        assert_eq(db.stats(), {size: 4, idle: 4, busy: 0, waiting: 0})
        db.close()
    end)

    it("runs writes from many tasks without SQLITE_BUSY", fun ()
        let db = fresh(4)
        run(async fun ()
            let tasks = []
            for i in 0 until 200
                tasks.push(db.execute("INSERT INTO t (name, n) VALUES (?, ?)", ["w" .. i, i]))
                tasks.push(db.fetch_val("SELECT count(*) FROM t"))
            end
            for t in tasks
                await t
            end
            assert_eq(await db.fetch_val("SELECT count(*) FROM t"), 200)
        end)
        db.close()
    end)
end)

describe("transactions", fun ()
    it("commits when the body returns and yields its value", fun ()
        let db = fresh(2)
        run(async fun ()
            let r = await db.transaction(async fun (tx)
                await tx.execute("INSERT INTO t (name) VALUES ('a')")
                await tx.fetch_val("SELECT count(*) FROM t")
            end)
            assert_eq(r, 1)
            assert_eq(await db.fetch_val("SELECT count(*) FROM t"), 1)
        end)
        db.close()
    end)

    it("rolls back when the body raises", fun ()
        let db = fresh(2)
        run(async fun ()
            let e = await error_of(db.transaction(async fun (tx)
                await tx.execute("INSERT INTO t (name) VALUES ('a')")
                raise ValueErr.new("boom")
            end))
            assert_eq(e.type(), ValueErr)
            assert_eq(await db.fetch_val("SELECT count(*) FROM t"), 0)
        end)
        assert_eq(db.stats()["idle"], 2)
        db.close()
    end)

    it("rolls back when cancelled", fun ()
        let db = fresh(2)
        run(async fun ()
            let t = db.transaction(async fun (tx)
                await tx.execute("INSERT INTO t (name) VALUES ('a')")
                await async.sleep(10)
            end)
            await async.sleep(0.05)
            t.cancel()
            assert_eq((await error_of(t)).type(), CancelledErr)
            assert_eq(await db.fetch_val("SELECT count(*) FROM t"), 0)
        end)
        assert_eq(db.stats(), {size: 2, idle: 2, busy: 0, waiting: 0})
        db.close()
    end)

    it("takes a plain function too", fun ()
        let db = fresh(1)
        run(async fun ()
            assert_eq(await db.transaction(fun (tx) 5 end), 5)
        end)
        db.close()
    end)
end)

describe("leases", fun ()
    it("acquires the writer, queues others, and times out", fun ()
        let db = fresh(3)
        run(async fun ()
            let c = await db.acquire()
            assert_eq(db.stats()["busy"], 1)
            let started = time.ticks_ms()
            let e = await error_of(db.acquire(timeout: 0.1))
            assert_eq(e.type(), TimeoutErr)
            assert(time.ticks_ms() - started >= 90)
            let waiter = db.acquire(timeout: 5)
            assert_eq(db.stats()["waiting"], 1)
            c.release()
            let c2 = await waiter
            assert_eq(await c2.fetch_val("SELECT 1"), 1)
            c2.release()
            assert_raises(ProgrammingErr, fun () c2.fetch_val("SELECT 1") end)
        end)
        db.close()
    end)

    it("rolls back what a released lease left open", fun ()
        let db = fresh(1)
        run(async fun ()
            let c = await db.acquire()
            await c.begin()
            await c.execute("INSERT INTO t (name) VALUES ('x')")
            c.release()
            assert_eq(await db.fetch_val("SELECT count(*) FROM t"), 0)
            with await db.acquire() as c2
                await c2.begin()
                await c2.execute("INSERT INTO t (name) VALUES ('y')")
                await c2.commit()
            end
            assert_eq(await db.fetch_val("SELECT count(*) FROM t"), 1)
        end)
        db.close()
    end)
end)

describe("the inline path", fun ()
    it("keeps the loop running when a proven-fast read turns slow", fun ()
        let db = fresh(2)
        let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c"
        run(async fun ()
            # The first run (thread pool) proves it read-only and fast; the
            # second runs inline.
            assert_eq(await db.fetch_val(sql, [10]), 10)
            assert_eq(await db.fetch_val(sql, [10]), 10)
            let ticking = true
            let gap = 0
            let ticker = async.spawn(async fun ()
                let last = time.ticks_ms()
                while ticking
                    await async.sleep(0.002)
                    let now = time.ticks_ms()
                    gap = gap.max(now - last)
                    last = now
                end
            end)
            await async.sleep(0.01)
            let started = time.ticks_ms()
            for i in 0 until 3
                assert_eq(await db.fetch_val(sql, [1000000]), 1000000)
            end
            let took = time.ticks_ms() - started
            ticking = false
            await ticker
            # Each slow run took far longer than the loop ever waited.
            assert_lt(gap * 6, took, "the loop was held " .. gap .. " ms of " .. took)
            assert_eq(await db.fetch_val(sql, [10]), 10)
        end)
        db.close()
    end)
end)

describe("cancellation and closing", fun ()
    it("interrupts a running statement", fun ()
        let db = fresh(1)
        run(async fun ()
            let slow = db.fetch_val("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")
            await async.sleep(0.05)
            let started = time.ticks_ms()
            slow.cancel()
            assert_eq((await error_of(slow)).type(), CancelledErr)
            assert_eq(await db.fetch_val("SELECT 2"), 2)
            assert_lt(time.ticks_ms() - started, 1000)
        end)
        db.close()
    end)

    it("fails new queries after close()", fun ()
        let db = fresh(2)
        db.close()
        run(async fun () assert_eq((await error_of(db.fetch_all("SELECT 1"))).type(), OperationalErr) end)
        assert_eq(db.stats()["size"], 0)
    end)
end)

io.rmdir_all(dir)
