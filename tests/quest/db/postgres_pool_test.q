# std/db/postgres, async pool: pool exhaustion and acquire timeouts,
# transactions rolled back on exceptions and on cancellation, queries
# cancelled on the server, a backend terminated under load, LISTEN/NOTIFY,
# and 1,000 concurrent tasks on a pool of 10.  Needs the test server
# (scripts/pg-test-cluster, started by make test); skipped without it.

use "std/test" {module, describe, it, skip, assert, assert_eq, assert_nil, assert_lt, assert_lte, assert_raises}
use "std/db/postgres"
use "std/db/postgres" {DatabaseErr, IntegrityErr, ProgrammingErr, OperationalErr, DataErr}
use "std/async"
use "std/os"
use "std/time"
use "std/uuid"

module("std/db/postgres pool")

let URL = os.getenv("QUEST_TEST_PG") ?: "host=localhost port=6432 user=quest password=quest_password dbname=quest_test"

fun server_up()
    try
        postgres.connect(URL).close()
        return true
    catch e
        return false
    end
end

let UP = server_up()

# Names of this run: other runs may share the server.
let RUN = uuid.v4().str().replace("-", "").slice(0, 12)
let T = "qt_pool_" .. RUN

fun pg_it(name, body)
    if UP
        it(name, body)
    else
        skip(name, "no PostgreSQL at " .. URL)
    end
end

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

# A pool on a fresh table T, closed after body(pg).
fun with_pool(options, body)
    run(async fun ()
        let pg = await postgres.pool(URL, max: options["max"], min: options["min"] ?: 1)
        await pg.execute("DROP TABLE IF EXISTS " .. T)
        await pg.execute("CREATE TABLE " .. T .. " (id SERIAL PRIMARY KEY, name TEXT UNIQUE, n INT)")
        try
            await body(pg)
        ensure
            await pg.execute("DROP TABLE IF EXISTS " .. T)
            pg.close()
        end
    end)
end

# Wait (up to 3 s) until cond() holds.
async fun eventually(cond)
    let start = time.ticks_ms()
    while not cond() and time.ticks_ms() - start < 3000
        await async.sleep(0.02)
    end
    cond()
end

describe("opening", fun ()
    pg_it("fails with OperationalErr when the server cannot be reached", fun ()
        run(async fun ()
            let e = await error_of(postgres.pool("host=127.0.0.1 port=1 user=x dbname=x"))
            assert_eq(e.type(), OperationalErr)
        end)
    end)

    pg_it("opens min connections and reports them", fun ()
        run(async fun ()
            let pg = await postgres.pool(URL, max: 5, min: 3)
            assert(await eventually(fun () pg.stats()["idle"] == 3 end))
            assert_eq(pg.stats(), {size: 3, idle: 3, busy: 0, waiting: 0})
            pg.close()
            assert_eq(pg.stats()["size"], 0)
            assert_eq((await error_of(pg.fetch_val("SELECT 1"))).type(), OperationalErr)
        end)
    end)
end)

describe("queries", fun ()
    pg_it("fetches all, one, a value, and counts changes", fun ()
        with_pool({max: 3}, async fun (pg)
            assert_eq(await pg.execute("INSERT INTO " .. T .. " (name, n) VALUES ($1, $2), ($3, $4)", ["a", 1, "b", 2]), 2)
            assert_eq(await pg.fetch_all("SELECT name, n FROM " .. T .. " ORDER BY id"), [{name: "a", n: 1}, {name: "b", n: 2}])
            assert_eq(await pg.fetch_one("SELECT name FROM " .. T .. " WHERE n = $1", [2]), {name: "b"})
            assert_nil(await pg.fetch_one("SELECT name FROM " .. T .. " WHERE n = 99"))
            assert_eq(await pg.fetch_val("SELECT count(*) FROM " .. T), 2)
            assert_eq(await pg.fetch_all("INSERT INTO " .. T .. " (name) VALUES ('c') RETURNING id"), [{id: 3}])
            assert_eq(await pg.execute("CREATE TEMP TABLE qt_tmp (x int); INSERT INTO qt_tmp VALUES (1)"), 1)
        end)
    end)

    pg_it("isolates a failing query from the others in the pipeline", fun ()
        with_pool({max: 1}, async fun (pg)
            let a = pg.fetch_val("SELECT 1")
            let b = pg.fetch_val("SELECT 1 / 0")
            let c = pg.fetch_val("SELECT 3")
            assert_eq(await a, 1)
            assert_eq((await error_of(b)).type(), DataErr)
            assert_eq(await c, 3)
            let e = await error_of(pg.execute("INSERT INTO " .. T .. " (name) VALUES ('a'), ('a')"))
            assert_eq(e.type(), IntegrityErr)
            assert_eq((await error_of(pg.fetch_val("SELEC"))).type(), ProgrammingErr)
            assert_eq(await pg.fetch_val("SELECT count(*) FROM " .. T), 0)
        end)
    end)

    pg_it("commits each query of a batch once, whatever else in it fails", fun ()
        with_pool({max: 1}, async fun (pg)
            # One connection, no await in between: these share a batch.
            let ins = "INSERT INTO " .. T .. " (name, n) VALUES ($1, $2)"
            let tasks = []
            for i in 0 until 20
                tasks.push(pg.execute(ins, ["k" .. i, i]))
            end
            let dup = pg.execute(ins, ["k3", 99])
            let zero = pg.fetch_val("SELECT 1 / $1::int", [0])
            let last = pg.execute(ins, ["last", 20])
            for t in tasks
                assert_eq(await t, 1)
            end
            assert_eq((await error_of(dup)).type(), IntegrityErr)
            assert_eq((await error_of(zero)).type(), DataErr)
            assert_eq(await last, 1)
            assert_eq(await pg.fetch_val("SELECT count(*) FROM " .. T), 21)
            assert_eq(await pg.fetch_val("SELECT n FROM " .. T .. " WHERE name = 'k3'"), 3)
        end)
    end)

    pg_it("runs a batch whose commit fails again, query by query", fun ()
        with_pool({max: 1}, async fun (pg)
            let D = T .. "_d"
            await pg.execute("CREATE TABLE " .. D .. " (k INT, CONSTRAINT " .. D .. "_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)")
            try
                let a = pg.execute("INSERT INTO " .. D .. " VALUES (1)")
                let b = pg.execute("INSERT INTO " .. D .. " VALUES (2)")
                let c = pg.execute("INSERT INTO " .. D .. " VALUES (1)")
                assert_eq(await a, 1)
                assert_eq(await b, 1)
                assert_eq((await error_of(c)).type(), IntegrityErr)
                assert_eq(await pg.fetch_all("SELECT k FROM " .. D .. " ORDER BY k"), [{k: 1}, {k: 2}])
            ensure
                await pg.execute("DROP TABLE IF EXISTS " .. D)
            end
        end)
    end)

    pg_it("shares a transaction within a batch, unless told batch: false", fun ()
        run(async fun ()
            for batch in [true, false]
                let pg = await postgres.pool(URL, max: 1, batch: batch)
                await pg.fetch_val("SELECT txid_current()")
                let a = pg.fetch_val("SELECT txid_current()")
                let b = pg.fetch_val("SELECT txid_current()")
                assert_eq(await a == await b, batch)
                pg.close()
            end
        end)
    end)

    pg_it("does not queue quick queries behind a slow one", fun ()
        run(async fun ()
            let pg = await postgres.pool(URL, max: 3, min: 3)
            assert(await eventually(fun () pg.stats()["idle"] == 3 end))
            let slow = pg.fetch_val("SELECT pg_sleep(0.6)")
            await async.sleep(0.02)
            let started = time.ticks_ms()
            for i in 0 until 5
                assert_eq(await pg.fetch_val("SELECT $1::int", [i]), i)
            end
            assert_lt(time.ticks_ms() - started, 400)
            await slow
            pg.close()
        end)
    end)

    pg_it("sees a table's new columns through a cached statement", fun ()
        with_pool({max: 1}, async fun (pg)
            await pg.execute("INSERT INTO " .. T .. " (name) VALUES ('a')")
            assert_eq((await pg.fetch_one("SELECT * FROM " .. T)).len(), 3)
            await pg.execute("ALTER TABLE " .. T .. " ADD COLUMN extra TEXT")
            assert_eq((await pg.fetch_one("SELECT * FROM " .. T)).len(), 4)
        end)
    end)

    pg_it("serves 1,000 concurrent awaiting tasks on a pool of 10", fun ()
        with_pool({max: 10}, async fun (pg)
            async fun one(i)
                let row = await pg.fetch_one("SELECT $1::int AS i, pg_backend_pid() AS pid", [i])
                row["i"]
            end
            let tasks = []
            for i in 0 until 1000
                tasks.push(async.spawn(fun () one(i) end))
            end
            let results = await async.join_all(tasks)
            let sum = 0
            for r in results
                sum += r
            end
            assert_eq(sum, 499500)
            let s = pg.stats()
            assert_lte(s["size"], 10)
            assert_eq(s["waiting"], 0)
        end)
    end)
end)

describe("leases", fun ()
    pg_it("exhausts the pool, honours acquire timeouts and hands over on release", fun ()
        with_pool({max: 2}, async fun (pg)
            let a = await pg.acquire()
            let b = await pg.acquire()
            assert_eq(pg.stats(), {size: 2, idle: 0, busy: 2, waiting: 0})
            let started = time.ticks_ms()
            let e = await error_of(pg.acquire(timeout: 0.2))
            assert_eq(e.type(), TimeoutErr)
            let waited = time.ticks_ms() - started
            assert(waited >= 190 and waited < 1500, "waited " .. waited .. " ms")
            let waiter = pg.acquire(timeout: 5)
            assert_eq(pg.stats()["waiting"], 1)
            a.release()
            let c = await waiter
            assert_eq(await c.fetch_val("SELECT 5"), 5)
            c.release()
            b.release()
            assert_raises(ProgrammingErr, fun () b.fetch_val("SELECT 1") end)
            assert_eq(pg.stats(), {size: 2, idle: 2, busy: 0, waiting: 0})
        end)
    end)

    pg_it("waits for a busy pool's connection to drain for acquire()", fun ()
        with_pool({max: 1}, async fun (pg)
            let q = pg.fetch_val("SELECT pg_sleep(0.2)::text")
            let c = await pg.acquire(timeout: 5)
            assert_eq(await q, "")
            c.release()
        end)
    end)

    pg_it("rolls back what a released lease left open", fun ()
        with_pool({max: 1}, async fun (pg)
            let c = await pg.acquire()
            await c.begin()
            await c.execute("INSERT INTO " .. T .. " (name) VALUES ('x')")
            c.release()
            assert_eq(await pg.fetch_val("SELECT count(*) FROM " .. T), 0)
            with await pg.acquire() as c2
                await c2.begin()
                await c2.execute("INSERT INTO " .. T .. " (name) VALUES ('y')")
                await c2.commit()
            end
            assert_eq(await pg.fetch_val("SELECT count(*) FROM " .. T), 1)
            assert_eq(pg.stats()["idle"], 1)
        end)
    end)
end)

describe("transactions", fun ()
    pg_it("commits when the body returns", fun ()
        with_pool({max: 2}, async fun (pg)
            let r = await pg.transaction(async fun (tx)
                await tx.execute("INSERT INTO " .. T .. " (name) VALUES ($1)", ["a"])
                await tx.fetch_val("SELECT count(*) FROM " .. T)
            end)
            assert_eq(r, 1)
            assert_eq(await pg.fetch_val("SELECT count(*) FROM " .. T), 1)
        end)
    end)

    pg_it("rolls back on an exception", fun ()
        with_pool({max: 2}, async fun (pg)
            let e = await error_of(pg.transaction(async fun (tx)
                await tx.execute("INSERT INTO " .. T .. " (name) VALUES ('a')")
                raise ValueErr.new("boom")
            end))
            assert_eq(e.type(), ValueErr)
            let e2 = await error_of(pg.transaction(async fun (tx)
                await tx.execute("INSERT INTO " .. T .. " (name) VALUES ('b')")
                await tx.execute("INSERT INTO " .. T .. " (name) VALUES ('b')")
            end))
            assert_eq(e2.type(), IntegrityErr)
            assert_eq(await pg.fetch_val("SELECT count(*) FROM " .. T), 0)
            assert_eq(pg.stats()["busy"], 0)
        end)
    end)

    pg_it("rolls back on cancellation, also of a query running on the server", fun ()
        with_pool({max: 2}, async fun (pg)
            let t = pg.transaction(async fun (tx)
                await tx.execute("INSERT INTO " .. T .. " (name) VALUES ('a')")
                await async.sleep(10)
            end)
            await async.sleep(0.1)
            t.cancel()
            assert_eq((await error_of(t)).type(), CancelledErr)
            let t2 = pg.transaction(async fun (tx)
                await tx.execute("INSERT INTO " .. T .. " (name) VALUES ('b')")
                await tx.execute("SELECT pg_sleep(10)")
            end)
            await async.sleep(0.2)
            let started = time.ticks_ms()
            t2.cancel()
            assert_eq((await error_of(t2)).type(), CancelledErr)
            assert_lt(time.ticks_ms() - started, 2000)
            assert_eq(await pg.fetch_val("SELECT count(*) FROM " .. T), 0)
            assert(await eventually(fun () pg.stats()["busy"] == 0 end))
        end)
    end)
end)

describe("failures", fun ()
    pg_it("cancels a running query on the server", fun ()
        with_pool({max: 1}, async fun (pg)
            let sleeper = "SELECT pg_sleep(10) -- " .. RUN
            let slow = pg.fetch_val(sleeper)
            await async.sleep(0.2)
            let started = time.ticks_ms()
            slow.cancel()
            assert_eq((await error_of(slow)).type(), CancelledErr)
            # One connection: this waits for the server to stop the sleep.
            assert_eq(await pg.fetch_val("SELECT 7"), 7)
            assert_lt(time.ticks_ms() - started, 2000)
            let still = await pg.fetch_val("SELECT count(*) FROM pg_stat_activity WHERE query = $1 AND state = 'active'", [sleeper])
            assert_eq(still, 0)
        end)
    end)

    pg_it("survives pg_terminate_backend of a pooled connection under load", fun ()
        with_pool({max: 4, min: 4}, async fun (pg)
            assert(await eventually(fun () pg.stats()["size"] == 4 end))
            let admin = postgres.connect(URL)
            let victims = []
            let ok = 0
            let lost = []
            async fun worker(w)
                for i in 0 until 60
                    try
                        let pid = await pg.fetch_val("SELECT pg_backend_pid() FROM pg_sleep(0.002)")
                        if victims.len() == 0 and w == 0 and i == 10
                            victims.push(pid)
                            admin.execute("SELECT pg_terminate_backend($1)", [pid])
                        end
                        ok += 1
                    catch e
                        lost.push(e)
                    end
                end
            end
            let workers = []
            for w in 0 until 8
                workers.push(worker(w))
            end
            await async.join_all(workers)
            admin.close()
            # Only queries in flight on the killed connection may fail.
            assert_lte(lost.len(), 8)
            for e in lost
                assert_eq(e.type(), OperationalErr)
            end
            assert_eq(ok + lost.len(), 480)
            assert(await eventually(fun () pg.stats()["size"] == 4 end), "pool whole again")
            assert_eq(await pg.fetch_val("SELECT 1"), 1)
        end)
    end)
end)

describe("LISTEN/NOTIFY", fun ()
    pg_it("delivers notifications to channels", fun ()
        with_pool({max: 2}, async fun (pg)
            let events = "qt_events_" .. RUN
            let ch = await pg.listen(events)
            let ch2 = await pg.listen(events)
            let other = await pg.listen("qt_other_" .. RUN)
            await pg.execute("NOTIFY " .. events .. ", 'one'")
            await pg.execute("SELECT pg_notify($1, $2)", [events, "two"])
            let admin = postgres.connect(URL)
            admin.execute("NOTIFY qt_other_" .. RUN .. ", 'three'")
            admin.close()
            assert_eq(await ch.recv(), "one")
            assert_eq(await ch.recv(), "two")
            assert_eq(await ch2.recv(), "one")
            assert_eq(await async.timeout(other.recv(), 2), "three")
            ch.close()
            await pg.execute("NOTIFY " .. events .. ", 'four'")
            assert_eq(await ch2.recv(), "two")
            assert_eq(await ch2.recv(), "four")
        end)
    end)

    pg_it("closes the channels when the pool closes", fun ()
        run(async fun ()
            let pg = await postgres.pool(URL, max: 1)
            let ch = await pg.listen("qt_closing")
            pg.close()
            assert_nil(await ch.recv())
        end)
    end)
end)
