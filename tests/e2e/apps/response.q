# The app tests/e2e/response_test.sh serves: each way a handler can answer.

fun handle_request(req)
    match req["path"]
    in "/text"
        "plain"
    in "/bytes"
        b"\x00\x01"
    in "/nil"
        nil
    in "/status"
        {status: 201, body: "made"}
    in "/bad-status"
        {status: "201"}
    in "/bad-body"
        {body: 42}
    in "/headers"
        {headers: {"x-one": "1", "x-many": ["a", "b"], "x-int": 7, "x-float": 1.5, "x-nil": nil},
         body: "h"}
    in "/json"
        {json: {b: [1, 2], a: nil}}
    in "/json-null"
        {json: nil, body: "ignored"}
    in "/json-type"
        {json: [1], headers: {"content-type": "application/vnd.x+json"}}
    in "/json-bad"
        {json: {f: fun () 1 end}}
    in "/runtime-keys"
        let d = {}
        d["sta" .. "tus"] = 202
        d["bo" .. "dy"] = "built"
        d
    else
        {status: 404}
    end
end
