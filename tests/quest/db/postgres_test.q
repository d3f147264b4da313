# std/db/postgres, synchronous API: what goes beyond the reference's own
# tests.  Needs the test server (scripts/pg-test-cluster, started by make
# test); without it every test is skipped.

use "std/test" {module, describe, it, skip, assert, assert_eq, assert_nil, assert_raises, assert_type}
use "std/db/postgres"
use "std/db/postgres" {DatabaseErr, IntegrityErr, ProgrammingErr, OperationalErr, DataErr}
use "std/os"
use "std/time"
use "std/uuid"

module("std/db/postgres")

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

# The table of this run: other runs may share the server.
let T = "qt_sync_" .. uuid.v4().str().replace("-", "").slice(0, 12)

# it() when the server answers, skip() otherwise.
fun pg_it(name, body)
    if UP
        it(name, body)
    else
        skip(name, "no PostgreSQL at " .. URL)
    end
end

fun with_table(body)
    let conn = postgres.connect(URL)
    let cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS " .. T)
    cur.execute("CREATE TABLE " .. T .. " (id SERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL, tags TEXT[], n INT)")
    try
        body(conn, cur)
    ensure
        cur.execute("DROP TABLE " .. T)
        conn.close()
    end
end

describe("statements with rows", fun ()
    pg_it("returns rows for WITH, RETURNING and SHOW (no SELECT-prefix test)", fun ()
        with_table(fun (conn, cur)
            cur.execute("WITH x(n) AS (VALUES (1), (2)) SELECT n FROM x")
            assert_eq(cur.fetch_all(), [{n: 1}, {n: 2}])
            cur.execute("INSERT INTO " .. T .. " (name) VALUES ($1) RETURNING id, name", ["a"])
            assert_eq(cur.fetch_one(), {id: 1, name: "a"})
            assert_eq(cur.row_count(), 1)
            cur.execute("SHOW DateStyle")
            assert_eq(cur.fetch_one()["DateStyle"], "ISO, MDY")
        end)
    end)

    pg_it("counts changed rows and offers the convenience forms", fun ()
        with_table(fun (conn, cur)
            assert_eq(conn.execute("INSERT INTO " .. T .. " (name) VALUES ('a'), ('b'), ('c')"), 3)
            assert_eq(conn.execute("UPDATE " .. T .. " SET n = $1", [7]), 3)
            assert_eq(cur.fetch_one("SELECT count(*) AS c FROM " .. T .. " WHERE n = $1", 7), {c: 3})
            assert_eq(cur.fetch_all("SELECT name FROM " .. T .. " WHERE name > $1 ORDER BY name", ["a"]).len(), 2)
            cur.execute_many("INSERT INTO " .. T .. " (name) VALUES ($1)", [["d"], ["e"]])
            assert_eq(cur.row_count(), 2)
        end)
    end)
end)

describe("errors", fun ()
    pg_it("maps SQLSTATE classes onto the error family", fun ()
        with_table(fun (conn, cur)
            cur.execute("INSERT INTO " .. T .. " (name) VALUES ('a')")
            assert_raises(IntegrityErr, fun () cur.execute("INSERT INTO " .. T .. " (name) VALUES ('a')") end)
            assert_raises(IntegrityErr, fun () cur.execute("INSERT INTO " .. T .. " (name) VALUES (NULL)") end)
            assert_raises(ProgrammingErr, fun () cur.execute("SELEC 1") end)
            assert_raises(ProgrammingErr, fun () cur.execute("SELECT nope FROM " .. T) end)
            assert_raises(DataErr, fun () cur.execute("SELECT 1 / 0") end)
            assert_raises(DataErr, fun () cur.execute("SELECT $1::int", ["x"]) end)
            let caught = nil
            try
                cur.execute("INSERT INTO " .. T .. " (name) VALUES ('a')")
            catch e: DatabaseErr
                caught = e
            end
            assert(caught.message().contains("23505"))
        end)
    end)

    pg_it("raises OperationalErr when it cannot connect", fun ()
        assert_raises(OperationalErr, fun ()
            postgres.connect("host=127.0.0.1 port=1 user=x dbname=x connect_timeout=2")
        end)
    end)

    pg_it("wants positional parameters", fun ()
        let conn = postgres.connect(URL)
        assert_raises(ProgrammingErr, fun () conn.execute("SELECT $1", {a: 1}) end)
        conn.close()
        assert_raises(ProgrammingErr, fun () conn.cursor() end)
    end)
end)

describe("types", fun ()
    pg_it("sends an Array as a PostgreSQL array where one is expected, JSON elsewhere", fun ()
        with_table(fun (conn, cur)
            cur.execute("INSERT INTO " .. T .. " (name, tags) VALUES ($1, $2)", ["a", ["x", "y z", "q\"uote"]])
            assert_eq(cur.fetch_one("SELECT tags FROM " .. T)["tags"], ["x", "y z", "q\"uote"])
            assert_eq(cur.fetch_one("SELECT $1::jsonb AS j", [[1, {a: 2}]])["j"], [1, {a: 2}])
            assert_eq(cur.fetch_one("SELECT $1::int[] AS a", [[1, nil, 3]])["a"], [1, nil, 3])
            assert_eq(cur.fetch_one("SELECT ARRAY[[1,2],[3,4]] AS m")["m"], [[1, 2], [3, 4]])
        end)
    end)

    pg_it("decodes small ints, oids, floats, NaN and text of other types", fun ()
        let conn = postgres.connect(URL)
        let row = conn.cursor().fetch_one("SELECT 5::int2 AS s, 'NaN'::float8 AS f, '1.5'::float4 AS r, " ..
                                          "'127.0.0.1'::inet AS ip, 'infinity'::timestamp AS inf")
        assert_eq(row["s"], 5)
        assert(row["f"] != row["f"])
        assert_eq(row["r"], 1.5)
        assert_eq(row["ip"], "127.0.0.1")
        assert_eq(row["inf"], "infinity")
        conn.close()
    end)

    pg_it("round-trips times, intervals and UUIDs", fun ()
        let conn = postgres.connect(URL)
        let cur = conn.cursor()
        let ts = time.parse("2025-01-15T14:30:45.123456Z")
        let row = cur.fetch_one("SELECT $1::timestamp AS ts, $2::timestamptz AS tz, $3::interval AS iv, " ..
                                "$4::interval AS neg", [ts, ts, time.span(days: 2, minutes: 3, millis: 500),
                                time.hours(-5)])
        assert_eq(row["ts"].str(), ts.str())
        assert_type(row["tz"], "Zoned")
        assert_eq(row["tz"].to_timestamp().str(), ts.str())
        assert_eq(row["iv"].days(), 2)
        assert_eq(row["iv"].minutes(), 3)
        assert_eq(row["iv"].milliseconds(), 500)
        assert_eq(row["neg"].hours(), -5)
        conn.close()
    end)

    pg_it("describes columns with type names", fun ()
        let conn = postgres.connect(URL)
        let cur = conn.cursor()
        cur.execute("SELECT 1::int4 AS a, 'x'::text AS b, 1.5::numeric(5,2) AS c")
        let d = cur.description()
        assert_eq(d.map(fun (c) c["type_code"] end), ["int4", "text", "numeric"])
        assert_eq(d[2]["precision"], 5)
        assert_eq(d[2]["scale"], 2)
        conn.close()
    end)
end)
