# quest serve's SQLite endpoint for loadtest/db/run.sh: one indexed SELECT
# of a random row on the libuv thread pool (pool of 4), as JSON.
use "std/db/sqlite"
use "std/os"
use "std/rand"

let db = sqlite.open(os.getenv("BENCH_SQLITE_PATH"), pool: 4)
let rng = rand.fast()

async fun handle_request(req)
    {json: await db.fetch_one("SELECT id, name, value FROM bench_items WHERE id = ?", [rng.int(1, 10000)])}
end
