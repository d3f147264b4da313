# An async handle_request for tests/e2e/serve_test.sh: answers that come
# without waiting (run inline, no Task) and answers that suspend first (the
# call becomes the request's Task: timeout, cancellation, errors).
use "std/async"

async fun later(seconds, text)
    await async.sleep(seconds)
    text
end

async fun deeper(text)
    let s = await later(0.05, text)
    s .. "!"
end

async fun handle_request(req)
    let q = req["query"]
    match req["path"]
    in "/"
        "now"
    in "/task"
        # Asking for its Task makes one; its name is the handler's.
        async.current().name()
    in "/slow"
        await later(0.1, "slow done")
    in "/nested"
        await deeper("nested")
    in "/caught"
        try
            await later(0.05, "x")
            raise ValueErr.new("late")
        catch e: ValueErr
            "caught " .. e.message()
        end
    in "/boom"
        raise ValueErr.new("secret now")
    in "/boom-late"
        await later(0.05, "x")
        raise ValueErr.new("secret later")
    in "/sleepy"
        try
            await async.sleep(5)
        ensure
            puts("async ensure ran for " .. (q["id"] ?: "?"))
        end
        "never"
    else
        {status: 404, body: "no"}
    end
end
