# The app tests/e2e/ws_test.sh serves: one WebSocket route per behaviour.
use "std/web"
use "std/async"
use "std/encoding/json"

async fun echo(ws, req)
    while true
        let m = await ws.recv()
        if m == nil
            break
        end
        ws.send(m)
    end
    puts("echo closed with " .. ws.close_code.str())
end

web.websocket("/echo", echo)
web.websocket("/chat", echo, protocols: ["chat.v2", "chat.v1"])
web.websocket("/guarded", echo, origins: ["http://good.example"])

# Answers each text message with its last character, which indexing finds
# by counting characters (the wire tells the VM when a message is all ASCII,
# whose characters it then does not count).
web.websocket("/last", async fun (ws, req)
    while true
        let m = await ws.recv()
        if m == nil
            break
        end
        ws.send(m[-1])
    end
end)

web.websocket("/protocol", async fun (ws, req)
    ws.send(ws.protocol ?: "none")
    await ws.recv()
end, protocols: ["chat.v2", "chat.v1"])

web.websocket("/info", async fun (ws, req)
    ws.send(json.stringify({id: ws.id, path: ws.path, query: req["query"], same: ws.request["path"] == req["path"], params: ws.params}))
    await ws.recv()
end)

# Closes from the server's side with its own code.
web.websocket("/bye", async fun (ws, req)
    await ws.recv()
    ws.close(code: 4002, reason: "server bye")
    let after = await ws.recv()
    puts("bye: recv after close gave nil: " .. (after == nil).str())
end)

# Returns at once: the connection closes with 1000.
web.websocket("/done", fun (ws, req)
    ws.send("done")
end)

web.websocket("/boom", async fun (ws, req)
    await ws.recv()
    raise ValueErr.new("handler failed on purpose")
end)

# Pub/sub: ?topic=NAME; says which WebSocket it is, then relays nothing.
web.websocket("/sub", async fun (ws, req)
    ws.subscribe(req["query"]["topic"])
    ws.send("subscribed " .. ws.id.str())
    while true
        let m = await ws.recv()
        if m == nil
            break
        end
        if m == "leave"
            ws.unsubscribe(req["query"]["topic"])
            ws.send("left")
        end
    end
end)

web.post("/publish", fun (req)
    web.publish(req["query"]["topic"], req["body"])
    "published"
end)

web.post("/publish_json", fun (req)
    web.publish(req["query"]["topic"], {n: 1, from: "json"})
    "published"
end)

# A slow reader: the server sends until the client is cut off.
web.websocket("/flood", async fun (ws, req)
    let chunk = "x" * 65536
    let n = 0
    while ws.send(chunk)
        n += 1
        await async.sleep(0.001)
    end
    puts("flood stopped after " .. n.str() .. " messages, open: " .. ws.is_open().str())
end)

# A slow handler: never reads, so its unread messages pile up.
web.websocket("/deaf", async fun (ws, req)
    await async.sleep(30)
end)

# ws in async.select beside a channel.
web.websocket("/select", async fun (ws, req)
    let ticks = async.channel()
    async.spawn(async fun ()
        await async.sleep(0.2)
        await ticks.send("tick")
    end)
    let n = 0
    while n < 2
        let r = await async.select([ws, ticks])
        if r["index"] == 0
            ws.send("ws:" .. r["value"])
        else
            ws.send("ch:" .. r["value"])
        end
        n += 1
    end
end)

# Router patterns: the most specific route wins, its captures are in
# ws.params and req["params"].
web.websocket("/rooms/{room}/{n<int>}", async fun (ws, req)
    ws.send(json.stringify({route: "room", params: ws.params, same: req["params"] == ws.params}))
    await ws.recv()
end)
web.websocket("/rooms/lobby/{n<int>}", async fun (ws, req)
    ws.send(json.stringify({route: "lobby", params: ws.params}))
    await ws.recv()
end)
web.websocket("/files/{*rest}", async fun (ws, req)
    ws.send(json.stringify({route: "files", params: ws.params}))
    await ws.recv()
end)

# Paths nobody registered come here.
async fun handle_websocket(ws, req)
    ws.send("fallback " .. ws.path)
end

fun handle_request(req)
    "plain http " .. req["path"]
end
