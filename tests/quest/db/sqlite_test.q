# std/db/sqlite, synchronous API: what goes beyond the reference's own
# tests — statements that return rows without starting with SELECT, the
# error family, parameter styles and types, the convenience forms.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises, assert_type}
use "std/db/sqlite"
use "std/db/sqlite" {DatabaseErr, IntegrityErr, ProgrammingErr, OperationalErr, DataErr}
use "std/time"

module("std/db/sqlite")

fun fresh()
    let conn = sqlite.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, score REAL, data BLOB)")
    conn
end

describe("statements with rows", fun ()
    it("returns rows for WITH, RETURNING and PRAGMA (no SELECT-prefix test)", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        cur.execute("WITH x(n) AS (VALUES (1), (2)) SELECT n FROM x")
        assert_eq(cur.fetch_all(), [{n: 1}, {n: 2}])
        cur.execute("INSERT INTO t (name) VALUES (?) RETURNING id, name", ["a"])
        assert_eq(cur.fetch_one(), {id: 1, name: "a"})
        assert_eq(cur.row_count(), 1)
        cur.execute("PRAGMA table_info(t)")
        assert_eq(cur.fetch_all().len(), 4)
        cur.execute("  -- a comment first\n  SELECT 7 AS seven")
        assert_eq(cur.fetch_one(), {seven: 7})
        conn.close()
    end)

    it("has no rows and no description after DDL and DML", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        assert_eq(cur.row_count(), -1)
        cur.execute("INSERT INTO t (name) VALUES ('a'), ('b')")
        assert_eq(cur.row_count(), 2)
        assert_nil(cur.description())
        assert_nil(cur.fetch_one())
        cur.execute("CREATE TABLE u (x)")
        assert_eq(cur.row_count(), 0)
        assert_eq(cur.last_row_id(), 2)
        conn.close()
    end)

    it("runs several statements in one string", fun ()
        let conn = sqlite.connect(":memory:")
        conn.execute("CREATE TABLE a (x); INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);")
        assert_eq(conn.cursor().fetch_all("SELECT sum(x) AS s FROM a"), [{s: 3}])
        conn.close()
    end)
end)

describe("errors", fun ()
    it("raises IntegrityErr for constraint violations, caught as DatabaseErr", fun ()
        let conn = fresh()
        conn.execute("INSERT INTO t (name) VALUES ('a')")
        assert_raises(IntegrityErr, fun () conn.execute("INSERT INTO t (name) VALUES ('a')") end)
        assert_raises(IntegrityErr, fun () conn.execute("INSERT INTO t (name) VALUES (NULL)") end)
        let caught = nil
        try
            conn.execute("INSERT INTO t (name) VALUES ('a')")
        catch e: DatabaseErr
            caught = e
        end
        assert_eq(caught.type(), IntegrityErr)
        assert(caught.message().contains("UNIQUE"))
        conn.close()
    end)

    it("raises ProgrammingErr for bad SQL, missing tables and parameter mismatches", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        assert_raises(ProgrammingErr, fun () cur.execute("SELEC 1") end)
        assert_raises(ProgrammingErr, fun () cur.execute("SELECT * FROM nope") end)
        assert_raises(ProgrammingErr, fun () cur.execute("SELECT ?, ?", [1]) end)
        assert_raises(ProgrammingErr, fun () cur.execute("SELECT :a, :b", {a: 1}) end)
        assert_raises(ProgrammingErr, fun () cur.execute("SELECT ?", {a: 1}) end)
        conn.close()
    end)

    it("raises OperationalErr when the file cannot be opened", fun ()
        assert_raises(OperationalErr, fun () sqlite.connect("/nonexistent/dir/x.db") end)
    end)

    it("raises DataErr for values it cannot store", fun ()
        let conn = fresh()
        assert_raises(DataErr, fun () conn.execute("SELECT ?", [Set.new()]) end)
        conn.close()
    end)

    it("refuses a closed connection", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        conn.close()
        assert_raises(ProgrammingErr, fun () cur.execute("SELECT 1") end)
        assert_raises(ProgrammingErr, fun () conn.cursor() end)
    end)

    it("exports the reference's error names as the same types", fun ()
        assert_eq(sqlite.DatabaseError, DatabaseErr)
        assert_eq(sqlite.IntegrityError, IntegrityErr)
    end)
end)

describe("parameters and types", fun ()
    it("binds ?, ?NNN, :name, @name and $name", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        assert_eq(cur.fetch_one("SELECT ?2 AS b, ?1 AS a", [1, 2]), {b: 2, a: 1})
        assert_eq(cur.fetch_one("SELECT :x AS x, @y AS y, $z AS z", {x: 1, y: 2, z: 3}), {x: 1, y: 2, z: 3})
        assert_eq(cur.fetch_one("SELECT :x AS x", {":x": 5}), {x: 5})
        assert_eq(cur.fetch_one("SELECT ? + ? AS s", 2, 3), {s: 5})
        conn.close()
    end)

    it("round-trips nil, Bool, Int, Float, Str and Bytes", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        let row = cur.fetch_one("SELECT ? AS n, ? AS b, ? AS i, ? AS f, ? AS s, ? AS y",
                                [nil, true, 9007199254740993, 2.5, "héllo", b"\x00\xff"])
        assert_nil(row["n"])
        assert_eq(row["b"], 1)
        assert_eq(row["i"], 9007199254740993)
        assert_eq(row["f"], 2.5)
        assert_eq(row["s"], "héllo")
        assert_eq(row["y"], b"\x00\xff")
        conn.close()
    end)

    it("stores Decimal, Uuid, times, Arrays and Dicts as text", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        let row = cur.fetch_one("SELECT ? AS d, ? AS a, json_extract(?, '$.k') AS k, ? AS day",
                                [Decimal.new("1.50"), [1, 2], {k: "v"}, time.date(2025, 1, 15)])
        assert_eq(row["d"], "1.50")
        assert_eq(row["a"], "[1,2]")
        assert_eq(row["k"], "v")
        assert_eq(row["day"], "2025-01-15")
        conn.close()
    end)
end)

describe("cursor", fun ()
    it("fetches one, many and the rest", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        cur.execute_many("INSERT INTO t (name) VALUES (?)", [["a"], ["b"], ["c"], ["d"]])
        assert_eq(cur.row_count(), 4)
        cur.execute("SELECT name FROM t ORDER BY id")
        assert_eq(cur.fetch_one(), {name: "a"})
        assert_eq(cur.fetch_many(2), [{name: "b"}, {name: "c"}])
        assert_eq(cur.fetch_all(), [{name: "d"}])
        assert_eq(cur.fetch_all(), [])
        assert_eq(cur.fetch_many(), [])
        conn.close()
    end)

    it("describes the columns with their declared types", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        cur.execute("SELECT id, name, 1 + 1 AS two FROM t")
        let d = cur.description()
        assert_eq(d.map(fun (c) c["name"] end), ["id", "name", "two"])
        assert_eq(d[0]["type_code"], "INTEGER")
        assert_nil(d[2]["type_code"])
        conn.close()
    end)

    it("commits and rolls back explicit transactions, and ignores them otherwise", fun ()
        let conn = fresh()
        let cur = conn.cursor()
        conn.commit()
        conn.rollback()
        cur.execute("BEGIN")
        cur.execute("INSERT INTO t (name) VALUES ('a')")
        conn.rollback()
        assert_eq(cur.fetch_all("SELECT * FROM t"), [])
        cur.execute("BEGIN")
        cur.execute("INSERT INTO t (name) VALUES ('b')")
        conn.commit()
        assert_eq(cur.fetch_all("SELECT name FROM t"), [{name: "b"}])
        conn.close()
    end)

    it("closes the connection at the end of a with block", fun ()
        let kept = nil
        with sqlite.connect(":memory:") as conn
            kept = conn
            assert_eq(conn.execute("CREATE TABLE x (a)"), 0)
        end
        assert_raises(ProgrammingErr, fun () kept.cursor() end)
    end)
end)
