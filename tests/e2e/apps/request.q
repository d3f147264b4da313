# The app tests/e2e/request_test.sh serves: the request Dict as handlers
# see it, and handlers that change the Dicts they were given.
fun handle_request(req)
    match req["path"]
    in "/keys"
        req.keys().join(",")
    in "/grow"
        # New keys on top of the server's: the Dict grows like any other.
        for i in 0 to 19
            req["extra" .. i.str()] = i
        end
        [req.len(), req["extra19"], req["method"], req["params"].len()].str()
    in "/mutate"
        # Each request gets Dicts of its own: none of this may reach the next one.
        req["query"]["injected"] = "yes"
        req["headers"]["x-injected"] = "yes"
        req["cookies"]["injected"] = "yes"
        req["params"]["injected"] = "yes"
        req["method"] = "CHANGED"
        "mutated"
    else
        {json: req}
    end
end
