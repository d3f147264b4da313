# JSON: parse and serialise a ~1 MB document 20 times (std/encoding/json).
# json_codec.py does the same with the same data and output (keys sorted, no
# spaces), so the two results are byte-identical.
use "std/encoding/json"

fun record(i)
    {
        "id": i,
        "name": "user" .. i,
        "email": "user" .. i .. "@example.com",
        "active": i % 3 == 0,
        "score": i * 1.5 + 0.25,
        "ratio": i / 7.0,
        "tags": ["alpha", "beta", "gamma \"quoted\"", "café"],
        "address": {"street": i .. " Main St", "city": "Springfield", "zip": "12345", "geo": [40.7128, -74.006]},
        "notes": nil
    }
end

fun run()
    let records = []
    for i in 0 until 4000
        records.push(record(i))
    end
    let text = json.stringify({"records": records, "count": 4000})
    let out = ""
    for round in 0 until 20
        out = json.stringify(json.parse(text))
    end
    [text.len(), out.len(), out == text]
end
puts(run())
