# The hello example, served by `make run` (quest serve examples/hello/app.q).
#
#   curl http://127.0.0.1:3000/            -> Hello, Quest!
#   curl http://127.0.0.1:3000/hello/Ada   -> Hello, Ada!
#   curl http://127.0.0.1:3000/later       -> answered after an await
use "std/async"

fun greet(name)
    "Hello, " .. name .. "!"
end

async fun later()
    await async.sleep(0.1)
    {status: 200, json: {message: greet("later"), waited: 0.1}}
end

fun handle_request(req)
    let path = req["path"]
    if path == "/later"
        return later()
    end
    if path.startswith("/hello/")
        return {status: 200, headers: {"content-type": "text/plain; charset=utf-8"},
                body: greet(path.slice(7, path.len()))}
    end
    {status: 200, headers: {"content-type": "text/plain; charset=utf-8"}, body: greet("Quest")}
end
