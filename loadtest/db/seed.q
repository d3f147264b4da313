# Seeds the tables loadtest/db/run.sh queries: bench_items with 10,000 rows
# (id primary key, name, value), in PostgreSQL and in an SQLite file.
#   quest seed.q SQLITE_PATH PG_URL
use "std/db/postgres"
use "std/db/sqlite"
use "std/sys"

let path = sys.argv[1]
let url = sys.argv[2]
let ROWS = 10000

let pg = postgres.connect(url)
pg.execute("DROP TABLE IF EXISTS bench_items")
pg.execute("CREATE TABLE bench_items (id INT PRIMARY KEY, name TEXT NOT NULL, value INT NOT NULL)")
pg.execute("INSERT INTO bench_items SELECT i, 'item ' || i, i * 7 % 1000 FROM generate_series(1, $1) i", [ROWS])
pg.execute("ANALYZE bench_items")
pg.close()

let lite = sqlite.connect(path)
lite.execute("PRAGMA journal_mode=WAL")
lite.execute("DROP TABLE IF EXISTS bench_items")
lite.execute("CREATE TABLE bench_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL)")
lite.execute("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) " ..
             "INSERT INTO bench_items SELECT i, 'item ' || i, i * 7 % 1000 FROM s", [ROWS])
lite.close()
