# The app tests/e2e/upload_test.sh serves: a request body as the handler
# sees it, echoed as JSON (a file's data as its class, size and SHA-256).
use "std/hash"

fun describe(body)
    if body.cls() != "Dict"
        return {cls: body.cls(), text: body.str()}
    end
    let files = body["files"].map(fun (f)
        {name: f["name"], filename: f["filename"], mime_type: f["mime_type"], size: f["size"],
         cls: f["data"].cls(), len: f["data"].len(), sha256: hash.sha256(f["data"])}
    end)
    {cls: "Dict", keys: body.keys(), fields: body["fields"], files: files}
end

fun handle_request(req)
    match req["path"]
    in "/echo"
        {status: 200, json: describe(req["body"])}
    else
        "ok"
    end
end
