"""Writes requests.jsonl: the /completion bodies of the newest run in .pwb/workbench.sqlite, as
pwb sent them, for bench/minimal_client.py to replay against a server."""
import json
import sqlite3

db = sqlite3.connect(".pwb/workbench.sqlite")
run = db.execute("SELECT MAX(id) FROM runs").fetchone()[0]
with open("requests.jsonl", "w") as f:
    for (request,) in db.execute(
        "SELECT p.request FROM results r JOIN responses p ON p.key = r.response_key WHERE r.run_id = ? ORDER BY r.id",
        (run,),
    ):
        r = json.loads(request)
        body = {"prompt": r["prompt"], "n_predict": r["max_tokens"], "temperature": r["temperature"],
                "stop": r["stop"], "cache_prompt": True}
        f.write(json.dumps(body, ensure_ascii=False) + "\n")
