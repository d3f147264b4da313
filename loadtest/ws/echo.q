# The quest side of loadtest/ws: a WebSocket echo server, one handler
# task per connection.
async fun handle_websocket(ws, req)
    while true
        let m = await ws.recv()
        if m == nil
            break
        end
        ws.send(m)
    end
end

fun handle_request(req)
    "WebSocket echo at any path"
end
