"""An OpenLineage consumer for the tests (what Marquez would be), and the graph its events
draw."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LineageCollector:
    """An OpenLineage consumer on a free local port (what Marquez would be): every event
    POSTed to it, in order; :attr:`transport` is Airflow's ``[openlineage] transport``."""

    def __init__(self):
        events = self.events = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                events.append(json.loads(body))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self.server.server_address[1]
        self.transport = json.dumps(
            {"type": "http", "url": f"http://127.0.0.1:{port}", "endpoint": "api/v1/lineage"}
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def save(self, path) -> None:
        with open(path, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(event, ensure_ascii=False) + "\n" for event in self.events)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def lineage_graph(events: list[dict]) -> dict[tuple, set[tuple]]:
    """The graph the events draw: each dataset to the datasets a job made from it."""
    reads, writes = defaultdict(set), defaultdict(set)
    for event in events:
        job = (event["job"]["namespace"], event["job"]["name"], event["run"]["runId"])
        reads[job] |= {(d["namespace"], d["name"]) for d in event.get("inputs") or []}
        writes[job] |= {(d["namespace"], d["name"]) for d in event.get("outputs") or []}
    graph = defaultdict(set)
    for job, inputs in reads.items():
        for dataset in inputs:
            graph[dataset] |= writes[job]
    return graph


def reachable(graph: dict[tuple, set[tuple]], start: tuple) -> set[tuple]:
    seen, todo = {start}, [start]
    while todo:
        for following in graph.get(todo.pop(), ()):
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen
