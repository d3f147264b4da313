# The app tests/e2e/http_client_test.sh serves with one worker: handlers
# that call back into this same server with std/http/client.
use "std/http/client" as http
use "std/async"
use "std/time"
use "std/os"

let self_url = "http://127.0.0.1:" .. os.getenv("PORT")

async fun slow()
    await async.sleep(0.2)
    "slow done"
end

async fun proxy()
    let r = await http.get(self_url .. "/hello", headers: {"X-Via": "proxy"})
    {status: 200, json: {status: r.status(), body: r.text()}}
end

# Twenty calls at once to /slow, each 200 ms, on this one worker.
async fun fanout()
    let started = time.ticks_ms()
    let tasks = []
    for i in 1 to 20
        tasks.push(http.get(self_url .. "/slow"))
    end
    let ok = 0
    for t in tasks
        if (await t).text() == "slow done"
            ok += 1
        end
    end
    {status: 200, json: {ok: ok, ms: time.ticks_ms() - started}}
end

fun handle_request(req)
    match req["path"]
    in "/hello"
        "hello via " .. (req["headers"]["x-via"] ?: "nobody")
    in "/slow"
        slow()
    in "/proxy"
        proxy()
    in "/fanout"
        fanout()
    in "/sync"
        # A sync call cannot block the server's loop: a clear error.
        http.get(self_url .. "/hello").text()
    else
        {status: 404, body: "no route"}
    end
end
