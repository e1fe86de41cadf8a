"""The floor the ack latency is compared with: Bolt on waitress, one /diagnose listener that only acks.

    python benchmarks/bare_bolt.py PORT SLACK_API_URL

The same Bolt version, WSGI adapter, server and thread count as `chatops serve`, and the same
`process_before_response` (the listener runs in the request's thread); nothing else.
"""

from __future__ import annotations

import sys
from typing import Any

from harness import SECRET
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress.server import create_server


def main() -> None:
    port, api_url = int(sys.argv[1]), sys.argv[2]
    client = WebClient(token="xoxb-sandbox-bot-token", base_url=api_url)
    app = App(client=client, signing_secret=SECRET, process_before_response=True)

    @app.command("/diagnose")
    def only_ack(ack: Ack) -> None:
        ack("Opening an incident…")

    slack = SlackRequestHandler(app)

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        return slack(environ, start_response)

    create_server(application, host="127.0.0.1", port=port, threads=32).run()


if __name__ == "__main__":
    main()
