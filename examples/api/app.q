# A JSON API for a to-do list: a router mounted at /api/v1, typed path
# parameters, JSON bodies with validation errors, bearer-token checks for
# writes, CORS for browser clients, and JSON error responses.
#
#   quest serve examples/api/app.q
#   curl http://127.0.0.1:3000/api/v1/todos
#   curl -X POST -H 'Authorization: Bearer secret' -d '{"title": "Write docs"}' \
#        http://127.0.0.1:3000/api/v1/todos
#
# The store lives in module state, so each worker has its own; std/db would
# share it.  Set API_TOKEN to change the token.

use "std/async"
use "std/encoding/json"
use "std/os"
use "std/web"
use "std/web/router" {Router}

let token = os.getenv("API_TOKEN") or "secret"
let todos = {}
let next_id = 1

fun add_todo(title)
    let todo = {"id": next_id, "title": title, "done": false}
    todos[next_id.str()] = todo
    next_id = next_id + 1
    todo
end

add_todo("Try the API")

fun error(status, message)
    {status: status, json: {"error": message}}
end

# The request body as a Dict, or nil when it is not a JSON object.
fun json_body(req)
    try
        let data = json.parse(req["body"])
        if data.cls() == "Dict"
            return data
        end
    catch e
    end
    nil
end

# Stands for a slow data source: an async handler awaits it without
# blocking the other requests of the worker.
async fun load_all()
    await async.sleep(0.01)
    let out = []
    for key in todos.keys()
        out.push(todos[key])
    end
    out
end

let api = Router.new()

api.get("/todos", async fun (req)
    let items = await load_all()
    let only = req["query"].get("done")
    if only != nil
        let wanted = only == "true"
        items = items.filter(fun (t) t["done"] == wanted end)
    end
    {status: web.HTTP_OK, json: {"todos": items, "count": items.len()}}
end)

api.get("/todos/{id<int>}", fun (req)
    let todo = todos.get(req["params"]["id"].str())
    if todo == nil
        return error(web.HTTP_NOT_FOUND, "no todo " .. req["params"]["id"].str())
    end
    {status: web.HTTP_OK, json: todo}
end)

api.post("/todos", fun (req)
    let data = json_body(req)
    if data == nil or data.get("title") == nil or data["title"].cls() != "Str" or data["title"].trim() == ""
        return error(web.HTTP_UNPROCESSABLE_ENTITY, "send a JSON object with a non-empty \"title\"")
    end
    let todo = add_todo(data["title"].trim())
    {status: web.HTTP_CREATED, headers: {"Location": "/api/v1/todos/" .. todo["id"].str()}, json: todo}
end)

api.patch("/todos/{id<int>}", fun (req)
    let todo = todos.get(req["params"]["id"].str())
    if todo == nil
        return error(web.HTTP_NOT_FOUND, "no todo " .. req["params"]["id"].str())
    end
    let data = json_body(req)
    if data == nil
        return error(web.HTTP_BAD_REQUEST, "send a JSON object")
    end
    if data.get("title") != nil
        todo["title"] = data["title"]
    end
    if data.get("done") != nil
        todo["done"] = data["done"] == true
    end
    {status: web.HTTP_OK, json: todo}
end)

api.delete("/todos/{id<int>}", fun (req)
    let key = req["params"]["id"].str()
    if not todos.contains(key)
        return error(web.HTTP_NOT_FOUND, "no todo " .. key)
    end
    todos = todos.remove(key)
    {status: web.HTTP_NO_CONTENT}
end)

# Writes need the token; reads are open.  Registered before the router so it
# runs first.
web.middleware(fun (req)
    if req["path"].startswith("/api/") and req["method"] != "GET" and req["method"] != "HEAD"
        if req["headers"].get("authorization") != "Bearer " .. token
            return error(web.HTTP_UNAUTHORIZED, "missing or wrong bearer token")
        end
    end
end)

web.route("/api/v1", api)

web.get("/", fun (req)
    {status: 200, json: {"name": "todo API", "endpoints": ["/api/v1/todos", "/api/v1/todos/{id}"]}}
end)

web.cors(origins: ["*"], methods: ["GET", "POST", "PATCH", "DELETE"], max_age: 3600)
web.on_error(404, fun (req) error(404, "no route for " .. req["method"] .. " " .. req["path"]) end)
web.on_error(405, fun (req) error(405, req["method"] .. " is not allowed here") end)
web.on_error(500, fun (req, message) error(500, "internal error") end)

try
    web.run()
catch e: RuntimeErr
    puts(e.message())
end
