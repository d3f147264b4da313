# quest serve's PostgreSQL endpoint for loadtest/db/run.sh: one indexed
# SELECT of a random row through the worker's pool of 10, as JSON.
use "std/db/postgres"
use "std/os"
use "std/rand"

let db = await postgres.pool(os.getenv("BENCH_PG_URL"), max: 10, min: 10)
let rng = rand.fast()

async fun handle_request(req)
    {json: await db.fetch_one("SELECT id, name, value FROM bench_items WHERE id = $1", [rng.int(1, 10000)])}
end
