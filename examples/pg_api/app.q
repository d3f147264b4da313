# A JSON API for notes, backed by PostgreSQL through an async pool.
#
#   scripts/pg-test-cluster start            # or point DATABASE_URL elsewhere
#   quest serve examples/pg_api/app.q
#   curl -d '{"title": "first", "body": "hello"}' http://127.0.0.1:3000/notes
#   curl http://127.0.0.1:3000/notes
#   curl http://127.0.0.1:3000/notes/1
#   curl -X PUT -d '{"body": "changed"}' http://127.0.0.1:3000/notes/1
#   curl -X DELETE http://127.0.0.1:3000/notes/1
#   curl -d '[{"title": "a"}, {"title": "b"}]' http://127.0.0.1:3000/notes/batch
#   curl http://127.0.0.1:3000/stats
#
# Every worker runs this file once: its top level opens the worker's own
# pool (awaiting it is allowed there) and makes sure the table exists.
# Handlers await queries; while one waits, the worker serves others.

use "std/db/postgres"
use "std/db/postgres" {IntegrityErr}
use "std/encoding/json"
use "std/os"

let url = os.getenv("DATABASE_URL") or
    "host=localhost port=6432 user=quest password=quest_password dbname=quest_test"
let db = await postgres.pool(url, max: 10)

# Workers start together: the advisory lock lets one create the table
# while the others wait (CREATE TABLE IF NOT EXISTS alone can race).
await db.transaction(async fun (tx)
    await tx.execute("SELECT pg_advisory_xact_lock(4243)")
    await tx.execute("""CREATE TABLE IF NOT EXISTS notes (
        id SERIAL PRIMARY KEY,
        title TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL DEFAULT now())""")
end)

let COLUMNS = "id, title, body, created_at::text AS created_at"

fun reply(status, data)
    {status: status, json: data}
end

fun problem(status, message)
    reply(status, {"error": message})
end

# The JSON body, or nil when it does not parse.
fun body_of(req)
    try
        return json.parse(req["body"] or "")
    catch e
        return nil
    end
end

# A note's fields from a JSON object: {title, body}, or an error message.
fun note_fields(data, partial)
    if data == nil or data.cls() != "Dict"
        return "send a JSON object"
    end
    let title = data.get("title")
    if (title == nil and not partial) or (title != nil and (title.cls() != "Str" or title.trim() == ""))
        return "\"title\" must be a non-empty string"
    end
    let body = data.get("body")
    if body != nil and body.cls() != "Str"
        return "\"body\" must be a string"
    end
    {title: title, body: body}
end

async fun list_notes(req)
    let limit = (req["query"].get("limit") or "50").to_int()
    let search = req["query"].get("q")
    let rows = nil
    if search != nil
        rows = await db.fetch_all("SELECT " .. COLUMNS .. " FROM notes WHERE title ILIKE $1 ORDER BY id LIMIT $2",
                                  ["%" .. search .. "%", limit])
    else
        rows = await db.fetch_all("SELECT " .. COLUMNS .. " FROM notes ORDER BY id LIMIT $1", [limit])
    end
    reply(200, {"notes": rows, "count": rows.len()})
end

async fun create_note(req)
    let fields = note_fields(body_of(req), false)
    if fields.cls() == "Str"
        return problem(422, fields)
    end
    try
        let note = await db.fetch_one("INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING " .. COLUMNS,
                                      [fields["title"].trim(), fields["body"] or ""])
        return {status: 201, headers: {"location": "/notes/" .. note["id"].str()}, json: note}
    catch e: IntegrityErr
        return problem(409, "a note titled \"" .. fields["title"] .. "\" exists")
    end
end

# POST /notes/batch: all the notes, or none of them (one transaction).
async fun create_batch(req)
    let items = body_of(req)
    if items == nil or items.cls() != "Array"
        return problem(422, "send a JSON array of notes")
    end
    for item in items
        let fields = note_fields(item, false)
        if fields.cls() == "Str"
            return problem(422, fields)
        end
    end
    try
        let ids = await db.transaction(async fun (tx)
            let out = []
            for item in items
                out.push(await tx.fetch_val("INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING id",
                                            [item["title"].trim(), item.get("body") or ""]))
            end
            out
        end)
        return reply(201, {"ids": ids})
    catch e: IntegrityErr
        return problem(409, "a title is taken: nothing was added")
    end
end

async fun get_note(id)
    let note = await db.fetch_one("SELECT " .. COLUMNS .. " FROM notes WHERE id = $1", [id])
    if note == nil
        return problem(404, "no note " .. id.str())
    end
    reply(200, note)
end

async fun update_note(id, req)
    let fields = note_fields(body_of(req), true)
    if fields.cls() == "Str"
        return problem(422, fields)
    end
    try
        let note = await db.fetch_one("UPDATE notes SET title = coalesce($2, title), body = coalesce($3, body) " ..
                                      "WHERE id = $1 RETURNING " .. COLUMNS, [id, fields["title"], fields["body"]])
        if note == nil
            return problem(404, "no note " .. id.str())
        end
        return reply(200, note)
    catch e: IntegrityErr
        return problem(409, "that title is taken")
    end
end

async fun delete_note(id)
    if await db.execute("DELETE FROM notes WHERE id = $1", [id]) == 0
        return problem(404, "no note " .. id.str())
    end
    {status: 204}
end

async fun handle_request(req)
    let parts = req["path"].split("/").filter(fun (p) p != "" end)
    let method = req["method"]
    if parts.len() == 0
        return reply(200, {"name": "notes API", "endpoints": ["/notes", "/notes/{id}", "/notes/batch", "/stats"]})
    end
    if parts[0] == "stats" and parts.len() == 1
        return reply(200, db.stats())
    end
    if parts[0] != "notes" or parts.len() > 2
        return problem(404, "no route for " .. req["path"])
    end
    if parts.len() == 1
        match method
        in "GET"
            return await list_notes(req)
        in "POST"
            return await create_note(req)
        else
            return problem(405, method .. " is not allowed on /notes")
        end
    end
    if parts[1] == "batch" and method == "POST"
        return await create_batch(req)
    end
    let id = parts[1].to_int()
    match method
    in "GET"
        return await get_note(id)
    in "PUT"
        return await update_note(id, req)
    in "DELETE"
        return await delete_note(id)
    else
        return problem(405, method .. " is not allowed on /notes/{id}")
    end
end
