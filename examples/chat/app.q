# A chat room over WebSockets: every browser tab holds a WebSocket to /ws,
# subscribed to the room's topic; what anyone types is published to the
# topic and so reaches every tab, whichever worker serves it.
#
#   quest serve examples/chat/app.q       then open http://127.0.0.1:3000/ in two windows
#
# POST /say?name=bot with a text body speaks from plain HTTP, e.g.
#   curl -d 'hello from curl' 'http://127.0.0.1:3000/say?name=curl'

use "std/io"
use "std/web"

let here = io.dirname(__file__)
const ROOM = "chat:lobby"

# Text from a client: trimmed, at most `limit` characters.
fun clean(text, limit)
    let t = text.trim()
    if t.len() > limit
        t = t.slice(0, limit)
    end
    t
end

fun say(name, text)
    web.publish(ROOM, {kind: "message", name: name, text: text})
end

web.websocket("/ws", async fun (ws, req)
    let name = clean(req["query"].get("name", ""), 24)
    if name == ""
        name = "guest-" .. ws.id.str()
    end
    ws.subscribe(ROOM)
    web.publish(ROOM, {kind: "joined", name: name})
    try
        while true
            let message = await ws.recv()
            if message == nil
                break
            end
            if message.cls() == "Str"
                let text = clean(message, 500)
                if text != ""
                    say(name, text)
                end
            end
        end
    ensure
        web.publish(ROOM, {kind: "left", name: name})
    end
end)

web.post("/say", fun (req)
    let text = clean(req["body"], 500)
    if text == ""
        return {status: 400, body: "say something"}
    end
    say(clean(req["query"].get("name", "http"), 24), text)
    {status: 204}
end)

web.static("/", io.join(here, "public"))
