# An app whose top level awaits before it is ready, as one that opens a
# database pool does: tests/e2e/startup_test.sh connects during that wait.
use "std/async"

await async.sleep(1)
let ready_at = "ready"

async fun handle_request(req)
    ready_at
end
