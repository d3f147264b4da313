# quest serve's JSON handler for loadtest/http/run.sh: a three-field Dict,
# serialized on every request, as the peers do.
async fun handle_request(req)
    {json: {message: "Hello, World!", id: 42, ok: true}}
end
