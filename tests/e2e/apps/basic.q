# The app tests/e2e/serve_test.sh serves: one route per server behaviour.
use "std/async"

let hits = 0

async fun slowly(seconds, text)
    await async.sleep(seconds)
    {status: 200, body: text}
end

async fun watched_sleep(marker)
    try
        await async.sleep(5)
    ensure
        # Cancelled by the timeout or by the client leaving: leave a trace.
        puts("ensure ran for " .. marker)
    end
    "never"
end

fun handle_request(req)
    hits += 1
    let path = req["path"]
    match path
    in "/"
        {status: 200, headers: {"content-type": "text/plain"}, body: "hello"}
    in "/echo"
        {status: 201, json: {method: req["method"], query: req["query"], body: req["body"],
                             cookies: req["cookies"], client_ip: req["client_ip"]}}
    in "/slow"
        slowly(0.2, "slow done")
    in "/drain"
        slowly(0.6, "drained")
    in "/sleepy"
        watched_sleep(req["query"]["id"] ?: "?")
    in "/boom"
        raise ValueErr.new("secret detail")
    in "/spin"
        while true end
    in "/bytes"
        b"\x00\x01\x02"
    in "/cookie"
        {status: 200, body: "c", cookies: {session: {value: "abc", http_only: true, path: "/"}}}
    in "/hits"
        hits.str()
    else
        {status: 404, body: "no route for " .. path}
    end
end
