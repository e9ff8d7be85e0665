"""The web page at `/` in a real browser (Debian's headless chromium) against a real
agent watching real workloads: the DOM says what /recommend says, a process named
`<script>alert(1` shows as text and runs nothing, a screenshot is kept as an artefact
(web_page.png in the test's build directory), and the web auth guards the page.

usage: web_page.py --agent PATH --case browser|auth
"""
import atexit
import html.parser
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

HOSTILE = "<script>alert(1"  # comm holds 15 characters
SCREENSHOT = os.path.join(os.getcwd(), "web_page.png")


class Dom(html.parser.HTMLParser):
    """Tags, and text nodes with the attributes of the element they are in."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.texts, self.rows, self._stack = [], [], {}, []
        self.generated, self._in_generated = None, False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        self._in_generated = attrs.get("class") == "generated"
        if tag == "tr" and "data-workload" in attrs:
            self.rows[attrs["data-workload"]] = {"text": "", "segments": [], "history": []}
            self._stack = [attrs["data-workload"]]
        if tag == "span" and attrs.get("class") == "seg" and self._stack:
            self.rows[self._stack[0]]["segments"].append(attrs)
        if tag == "i" and "data-class" in attrs and self._stack:
            self.rows[self._stack[0]]["history"].append(attrs["data-class"])

    def handle_endtag(self, tag):
        if tag == "tr":
            self._stack = []

    def handle_data(self, data):
        self.texts.append(data)
        if self._in_generated:
            self.generated, self._in_generated = data, False
        if self._stack:
            self.rows[self._stack[0]]["text"] += data


class Documents(threading.Thread):
    """/recommend polled in the background, kept by `generated_at`: a page is compared
    with the document of the window it was rendered from (a browser run takes longer
    than a 2 s window)."""

    def __init__(self, agent):
        super().__init__(daemon=True)
        self.agent, self.by_time, self.stopped = agent, {}, False
        self.start()

    def run(self):
        while not self.stopped:
            doc = self.agent.recommend()
            if doc:
                self.by_time[doc["generated_at"]] = doc
            time.sleep(0.2)

    def of(self, dom):
        if dom.generated is None:
            harness.fail("the page says nothing of when it was generated")
        harness.wait_until(lambda: dom.generated in self.by_time, 3)
        if dom.generated not in self.by_time:
            harness.fail(f"no /recommend document generated at {dom.generated}")
        return self.by_time[dom.generated]


def chromium():
    path = shutil.which("chromium")
    if path is None:
        harness.skip("chromium is not installed (deploy/install-deps.sh --test installs it)")
    profile = harness.tempdir("boundwise-chromium-")

    def run(*args):
        r = subprocess.run([path, "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", f"--user-data-dir={profile}", *args],
                           capture_output=True, text=True, timeout=90)
        return r

    def checked(*args):
        r = run(*args)
        if r.returncode != 0 and not r.stdout:
            harness.skip(f"chromium cannot run headless here: {r.stderr.strip()[-500:]}")
        return r

    return checked


def detached(name, script, *args):
    """A workload whose comm is `name` (prctl PR_SET_NAME), started detached so that
    auto-discovery sees it as the root of its own tree (as run_case.py's
    auto_discovery does)."""
    code = ("import ctypes, runpy, sys; "
            f"ctypes.CDLL(None).prctl(15, {name!r}.encode(), 0, 0, 0); "
            f"sys.argv = [{script!r}] + sys.argv[1:]; "
            f"runpy.run_path({script!r}, run_name='__main__')")
    launcher = harness.start(["sh", "-c", f'{harness.PYTHON} -c "$0" "$@" </dev/null >/dev/null '
                              '2>&1 & echo $!', code, *map(str, args)],
                             stdout=subprocess.PIPE, text=True)
    pid = int(launcher.stdout.readline())
    atexit.register(lambda: os.kill(pid, signal.SIGKILL) if os.path.exists(f"/proc/{pid}")
                    else None)
    return pid


def case_browser(binary):
    run = chromium()
    server = harness.start([harness.PYTHON, os.path.join(harness.WORKLOADS,
                                                         "slow_http_server.py"), "0", "0.2"],
                           stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().strip())
    detached("bw-client", os.path.join(harness.WORKLOADS, "http_threads.py"), port, 8)
    detached(HOSTILE, os.path.join(harness.WORKLOADS, "cpu_single.py"))
    # No targets: auto-discovery names each workload after its process (`comm`). The
    # client uses little CPU: room for every busy tree of a busy CI machine. Stacks on, for
    # the flame graph links.
    agent = harness.Agent(binary, [], dependencies=[("orders-api", f"127.0.0.1:{port}")],
                          extra="max_workloads: 200\ncollectors:\n  stacks: {enabled: true}")

    def client_ready(w):
        deps = w["verdict"]["dependencies"]
        return w["verdict"]["class"] == "io_network" and deps and deps[0]["name"] == "orders-api"

    w, ok = harness.wait_for_verdict(agent, "bw-client", client_ready, windows=4)
    if not ok:
        harness.fail(f"bw-client never io_network on orders-api:\n{harness.describe(w)}")
    w, ok = harness.wait_for_verdict(agent, HOSTILE, lambda w: True)
    if not ok:
        harness.fail(f"the workload named {HOSTILE!r} was not discovered:\n"
                     f"{json.dumps(agent.recommend(), indent=1)[:3000]}")

    documents = Documents(agent)
    page = run("--dump-dom", agent.base + "/")
    dom = Dom(page.stdout)
    if any(tag == "script" for tag, _ in dom.tags):
        harness.fail(f"a <script> element in the DOM:\n{page.stdout}")
    if any(tag in ("link", "img", "iframe") or "src" in attrs for tag, attrs in dom.tags):
        harness.fail("the page loads something:\n" + page.stdout)
    doc = documents.of(dom)
    refresh = [a for t, a in dom.tags if t == "meta" and a.get("http-equiv") == "refresh"]
    if not refresh:
        harness.fail("no meta refresh")
    by_name = {x["workload"]: x for x in doc["workloads"]}
    for name, x in by_name.items():
        row = dom.rows.get(name)
        if row is None:
            harness.fail(f"no row for {name!r}; rows: {list(dom.rows)}")
        if x["verdict"] is None:
            continue
        for part in (x["verdict"]["class"], x["recommendation"]["model"],
                     x["recommendation"]["summary"]):
            if part not in row["text"]:
                harness.fail(f"row {name!r} lacks {part!r}: {row['text']!r}")
        shares = {r: s for r, s in x["verdict"]["shares"].items() if s >= 0.0005}
        got = {s["data-reason"]: float(s["data-share"]) for s in row["segments"]}
        if got != shares:
            harness.fail(f"row {name!r}: bar segments {got}, shares {shares}")
    # The history strip: one cell per window kept, io_network among them.
    cells = dom.rows["bw-client"]["history"]
    if "io_network" not in cells:
        harness.fail(f"bw-client's history strip has no io_network window: {cells}")
    client = by_name["bw-client"]
    dep = client["verdict"]["dependencies"][0]
    p95 = f"p95 {dep['latency_seconds']['p95'] * 1e3:.0f} ms"
    if "orders-api" not in dom.rows["bw-client"]["text"] or p95 not in dom.rows["bw-client"]["text"]:
        harness.fail(f"bw-client's row lacks orders-api with {p95}: {dom.rows['bw-client']['text']!r}")
    # The hostile name is text: in the row's link, as written.
    if HOSTILE not in dom.texts:
        harness.fail(f"{HOSTILE!r} is not a text node of the page")
    print(f"index: {len(dom.rows)} workloads, {HOSTILE!r} shown as text")

    # One workload's page: its evidence, every line.
    page = run("--dump-dom", agent.base + "/?workload=bw-client")
    dom = Dom(page.stdout)
    texts = dom.texts
    doc = documents.of(dom)
    doc["workloads"] = [x for x in doc["workloads"] if x["workload"] == "bw-client"]
    x = doc["workloads"][0]
    for line in [x["recommendation"]["summary"], *x["recommendation"]["evidence"],
                 *x["recommendation"]["risks"], *x["verdict"]["rationale"]]:
        if line not in texts:
            harness.fail(f"the workload page lacks {line!r}:\n{page.stdout}")
    # With stacks sampled, the page links the flame graphs, and the links work.
    links = [a["href"] for t, a in dom.tags if t == "a" and a.get("href", "").startswith("/profile?")]
    if x.get("top_stacks") is not None:
        offcpu = [h for h in links if h.endswith("type=offcpu")]
        if len(links) != 3 or not offcpu:
            harness.fail(f"the workload page should link 3 flame graphs: {links}")
        status, svg = harness.http_get(agent.base + offcpu[0])
        if status != 200 or "<svg" not in svg:
            harness.fail(f"{offcpu[0]}: {status} {svg[:300]!r}")
        print(f"flame graphs linked: {links}")
    elif links:
        harness.fail(f"flame graphs linked without stacks: {links}")
    # The hostile workload's own page, as served (the browser has shown above that
    # escaped markup stays text).
    status, body = harness.http_get(agent.base + "/?workload=" + urllib.parse.quote(HOSTILE,
                                                                                    safe=""))
    hostile = Dom(body)
    if (status != 200 or any(tag == "script" for tag, _ in hostile.tags)
            or HOSTILE not in "".join(hostile.texts)):
        harness.fail(f"the hostile workload's page does not show its name as text: {status}")

    shot = run("--screenshot=" + SCREENSHOT, "--window-size=1400,900", agent.base + "/")
    if shot.returncode != 0 or not os.path.exists(SCREENSHOT):
        harness.fail(f"no screenshot: {shot.stderr[-500:]}")
    with open(SCREENSHOT, "rb") as f:
        head = f.read(8)
    if head != b"\x89PNG\r\n\x1a\n" or os.path.getsize(SCREENSHOT) < 10_000:
        harness.fail(f"{SCREENSHOT} is not a screenshot of a page")
    print(f"screenshot: {SCREENSHOT} ({os.path.getsize(SCREENSHOT)} bytes)")


def case_auth(binary):
    d = harness.tempdir("boundwise-web-auth-")
    token = os.path.join(d, "token")
    with open(token, "w") as f:
        f.write("page-token\n")
    agent = harness.Agent(binary, [], window="1s", extra=f"web:\n  bearer_token_file: {token}\n")
    for target in ("/", "/?workload=x", "/?format=text"):
        status, _ = harness.http_get(agent.base + target)
        if status != 401:
            harness.fail(f"{target} without the token: {status}, want 401")
    request = urllib.request.Request(agent.base + "/",
                                     headers={"Authorization": "Bearer page-token"})
    with urllib.request.urlopen(request, timeout=5) as r:
        body = r.read().decode()
        if r.status != 200 or not r.headers["Content-Type"].startswith("text/html"):
            harness.fail(f"/ with the token: {r.status} {r.headers['Content-Type']}")
        csp = r.headers.get("Content-Security-Policy", "")
        if "default-src 'none'" not in csp or r.headers.get("X-Content-Type-Options") != "nosniff":
            harness.fail(f"/ without its security headers: {dict(r.headers)}")
    if "<!DOCTYPE html>" not in body:
        harness.fail(f"/ is not HTML: {body[:200]}")


CASES = {"browser": case_browser, "auth": case_auth}


if __name__ == "__main__":
    harness.run_cases(CASES)
