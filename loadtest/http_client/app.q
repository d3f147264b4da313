# quest serve's side of the outbound-HTTP benchmark (loadtest/http_client/run.sh):
# every request awaits one call to the upstream and answers with a field of
# its JSON.  UPSTREAM names the upstream URL.
use "std/http/client" as http
use "std/os"

let upstream = os.getenv("UPSTREAM", "http://127.0.0.1:9101/")

async fun handle_request(req)
    let r = await http.get(upstream)
    "upstream said " .. r.json()["name"] .. " (" .. r.status() .. ")"
end
