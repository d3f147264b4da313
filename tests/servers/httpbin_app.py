"""httpbin for the reference's test/http/client_test.q, run by gunicorn
(scripts/test-servers): Debian's python3-httpbin (0.7.0) plus the /json
route of later httpbin releases, which that test reads."""
from flask import jsonify

from httpbin import app


@app.route("/json")
def sample_json():
    return jsonify(slideshow={
        "author": "Yours Truly",
        "date": "date of publication",
        "title": "Sample Slide Show",
        "slides": [
            {"title": "Wake up to WonderWidgets!", "type": "all"},
            {"title": "Overview", "type": "all",
             "items": ["Why <em>WonderWidgets</em> are great", "Who <em>buys</em> WonderWidgets"]},
        ],
    })
