"""The smallest client that does what `pwb eval` does on the wire: send these requests to
llama-server's /completion at this concurrency, over keep-alive connections, and wait for all.
Usage: minimal_client.py ENDPOINT CONCURRENCY REQUESTS.jsonl   (prints the wall time in seconds)"""
import http.client, json, sys, threading, time, urllib.parse

endpoint, concurrency, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
requests = [json.loads(line) for line in open(path)]
url = urllib.parse.urlparse(endpoint)
lock = threading.Lock()
queue = list(reversed(requests))

def worker():
    connection = http.client.HTTPConnection(url.hostname, url.port)
    while True:
        with lock:
            if not queue:
                return
            body = queue.pop()
        connection.request("POST", "/completion", json.dumps(body), {"Content-Type": "application/json"})
        answer = json.loads(connection.getresponse().read())
        assert "content" in answer

start = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(concurrency)]
for t in threads: t.start()
for t in threads: t.join()
print(f"{time.monotonic() - start:.3f}")
