# quest serve's hello-world for loadtest/http/run.sh: an async handler that
# answers every request with the 13-byte text/plain body the peers send.
async fun handle_request(req)
    "Hello, World!"
end
