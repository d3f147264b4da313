# JSON: parse and serialise a ~1 MB document 20 times (the json module).
# Same data and output as json_codec.q (keys sorted, no spaces).
import json


def record(i):
    return {
        "id": i,
        "name": "user" + str(i),
        "email": "user" + str(i) + "@example.com",
        "active": i % 3 == 0,
        "score": i * 1.5 + 0.25,
        "ratio": i / 7.0,
        "tags": ["alpha", "beta", "gamma \"quoted\"", "café"],
        "address": {"street": str(i) + " Main St", "city": "Springfield", "zip": "12345", "geo": [40.7128, -74.006]},
        "notes": None,
    }


def dumps(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def run():
    records = [record(i) for i in range(4000)]
    text = dumps({"records": records, "count": 4000})
    out = ""
    for _ in range(20):
        out = dumps(json.loads(text))
    return [len(text), len(out), out == text]


print(run())
