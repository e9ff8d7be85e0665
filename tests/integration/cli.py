"""`boundwise status` and `boundwise explain` against a real agent watching real
workloads: the table and the explanation say what /recommend says, and each failure
has its own exit code (docs/API.md, "The command line"). The status_explain case also
validates the live /recommend answers against docs/recommend.schema.json.

usage: cli.py --agent PATH --case status_explain|exit_codes|tls
"""
import json
import os
import pty
import re
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

UNREACHABLE, UNAUTHORISED, UNKNOWN, NOT_READY = 3, 4, 5, 6


def cli(binary, *args, timeout=15):
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def expect_code(result, code, what):
    if result.returncode != code:
        harness.fail(f"{what}: exit {result.returncode}, want {code}\n"
                     f"stdout: {result.stdout}\nstderr: {result.stderr}")
    if code != 0 and not result.stderr.strip():
        harness.fail(f"{what}: exit {code} without a message on stderr")


def slow_server(delay):
    p = harness.start([harness.PYTHON, os.path.join(harness.WORKLOADS, "slow_http_server.py"),
                       "0", str(delay)], stdout=subprocess.PIPE, text=True)
    return int(p.stdout.readline().strip())


def case_status_explain(binary):
    port = slow_server(0.2)
    client = harness.start_workload("http_threads.py", port, 8)
    cpu = harness.start_workload("cpu_single.py")
    agent = harness.Agent(binary, [{"name": "client", "pid": client.pid},
                                   {"name": "cpu", "pid": cpu.pid},
                                   {"name": "ghost", "comm": "^no-such-process-here$"}],
                          dependencies=[("orders-api", f"127.0.0.1:{port}")])

    def io_with_latency(w):
        deps = w["verdict"]["dependencies"]
        return (w["verdict"]["class"] == "io_network" and deps and deps[0]["name"] == "orders-api"
                and deps[0]["latency_seconds"] is not None)

    w, ok = harness.wait_for_verdict(agent, "client", io_with_latency)
    if not ok:
        harness.fail(f"no io_network verdict with orders-api's latency:\n{harness.describe(w)}")
    harness.wait_for_verdict(agent, "cpu", lambda w: w["verdict"]["class"] == "cpu_bound")

    # The table and the JSON of one and the same window: retried if a window closed
    # between the two requests.
    for _ in range(5):
        table = cli(binary, "status", "--url", agent.base)
        expect_code(table, 0, "status")
        doc = json.loads(cli(binary, "status", "--url", agent.base, "--json").stdout)
        if doc["generated_at"] in table.stdout:
            break
    else:
        harness.fail("no window stayed put long enough to compare the table with the JSON")
    if "\x1b[" in table.stdout:
        harness.fail(f"colour codes on a pipe:\n{table.stdout!r}")
    lines = table.stdout.splitlines()
    header = next((ln for ln in lines if ln.startswith("WORKLOAD")), None)
    if header is None or header.split() != ["WORKLOAD", "STATE", "CLASS", "CONF", "MODEL",
                                            "WORKERS", "CORES", "SLO", "STABLE", "TOP",
                                            "WAIT"]:
        harness.fail(f"no table header:\n{table.stdout}")
    rows = {ln.split()[0]: ln for ln in lines[lines.index(header) + 1:]}
    by_name = {x["workload"]: x for x in doc["workloads"]}
    for name in ("client", "cpu"):
        x = by_name[name]
        v, r = x["verdict"], x["recommendation"]
        want = [name, "running", v["class"], f"{v['confidence'] * 100:.0f}%", r["model"],
                str(r["workers"]), f"{v['cpu_cores_used']:.2f}"]
        if rows.get(name, "").split()[:7] != want:
            harness.fail(f"row {name}: {rows.get(name)!r}, want it to start {want}")
    dep = by_name["client"]["verdict"]["dependencies"][0]
    p95_ms = dep["latency_seconds"]["p95"] * 1e3
    top = re.search(r"net (\d+)% orders-api p95 (\d+) ms", rows["client"])
    if not top or abs(int(top.group(2)) - p95_ms) > 1:
        harness.fail(f"client's top wait should be net on orders-api with p95 {p95_ms:.0f} ms: "
                     f"{rows['client']!r}")
    if not re.search(r"^ghost\s+absent\s", rows.get("ghost", "")):
        harness.fail(f"the absent target's row: {rows.get('ghost')!r}")
    print(table.stdout)

    one = cli(binary, "status", "--url", agent.base, "--workload", "client", "--json")
    expect_code(one, 0, "status --workload client --json")
    names = [x["workload"] for x in json.loads(one.stdout)["workloads"]]
    if names != ["client"]:
        harness.fail(f"--workload client --json holds {names}")

    # explain: the class, the summary and every evidence line with its numbers, from
    # the same window as the JSON it is compared with.
    for _ in range(5):
        doc = json.loads(cli(binary, "status", "--url", agent.base, "--json").stdout)
        explained = cli(binary, "explain", "client", "--url", agent.base)
        expect_code(explained, 0, "explain client")
        if doc["generated_at"] in explained.stdout:
            break
    else:
        harness.fail("no window stayed put long enough to compare explain with the JSON")
    x = next(x for x in doc["workloads"] if x["workload"] == "client")
    text = explained.stdout
    wanted = [f"client: io_network, confidence {x['verdict']['confidence'] * 100:.0f}%",
              x["recommendation"]["summary"], *x["recommendation"]["evidence"],
              *x["recommendation"]["risks"], "Thread time by reason", "orders-api",
              f"127.0.0.1:{port}"]
    for part in wanted:
        if part not in text:
            harness.fail(f"explain lacks {part!r}:\n{text}")
    net = x["verdict"]["shares"]["net"]
    bar = re.search(r"^  net\s+\|(#*) *\| ([\d.]+)%$", text, re.M)
    if not bar or abs(float(bar.group(2)) - net * 100) > 0.06 or len(bar.group(1)) != round(net * 40):
        harness.fail(f"net's bar should show {net * 100:.1f}%:\n{text}")
    print(text)

    # Colour only on a terminal, and not with NO_COLOR.
    code, out = on_terminal(binary, "status", "--url", agent.base)
    if code != 0 or "\x1b[1mWORKLOAD" not in out or "\x1b[36mio_network" not in out:
        harness.fail(f"no colours on a terminal (exit {code}): {out!r}")
    code, out = on_terminal(binary, "status", "--url", agent.base,
                            env=dict(os.environ, NO_COLOR="1"))
    if code != 0 or "\x1b[" in out or "WORKLOAD" not in out:
        harness.fail(f"colours with NO_COLOR set (exit {code}): {out!r}")

    # --watch on a terminal redraws in place: home, frame, clear the rest; again.
    _, out = on_terminal(binary, "status", "--url", agent.base, "--watch", "--interval", "0.3",
                         stop_after=1.5)
    if out.count("\x1b[H") < 2 or out.count("\x1b[J") < 2:
        harness.fail(f"--watch on a terminal did not redraw in place: {out[:500]!r}")

    # --watch redraws: at least two frames in 1.5 s at a 0.3 s interval.
    watch = subprocess.Popen([binary, "status", "--url", agent.base, "--watch", "--interval",
                              "0.3"], stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    watch.terminate()
    out = watch.communicate(timeout=5)[0]
    if out.count("WORKLOAD") < 2:
        harness.fail(f"--watch drew {out.count('WORKLOAD')} frames in 1.5 s:\n{out}")

    validate_schema(agent)


def validate_schema(agent):
    """Live /recommend answers (the whole document with a running io_network workload, a
    cpu_bound one and an absent target; one workload; with history) validate against
    docs/recommend.schema.json, and carry its schema_version."""
    try:
        import jsonschema
    except ImportError:
        harness.skip("python3-jsonschema is not installed (apt-get install python3-jsonschema): "
                     "/recommend was not validated against docs/recommend.schema.json")
    with open(os.path.join(harness.REPO, "docs", "recommend.schema.json")) as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    for query in ("", "?history=1", "?workload=client&history=1", "?workload=ghost"):
        status, body = harness.http_get(agent.base + "/recommend" + query)
        if status != 200:
            harness.fail(f"/recommend{query}: HTTP {status}: {body}")
        doc = json.loads(body)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            harness.fail(f"/recommend{query} does not match docs/recommend.schema.json:\n" +
                         "\n".join(f"  {'/'.join(map(str, e.absolute_path))}: {e.message}"
                                    for e in errors[:10]))
        if doc["schema_version"] != schema["properties"]["schema_version"]["const"]:
            harness.fail(f"/recommend{query}: schema_version {doc['schema_version']}")
    # The validator is not void: a wrong unit's shape (milliseconds as a field) fails.
    doc["workloads"][0]["p95_ms"] = 210
    if validator.is_valid(doc):
        harness.fail("docs/recommend.schema.json accepts an undocumented field")
    print("ok: /recommend answers validate against docs/recommend.schema.json "
          f"(schema_version {schema['properties']['schema_version']['const']})")


def on_terminal(binary, *args, env=None, stop_after=None):
    """Runs the CLI with its stdout on a pseudo-terminal; returns its exit code and what
    it wrote. `stop_after`: seconds after which it is terminated (for --watch)."""
    leader, follower = pty.openpty()
    p = subprocess.Popen([binary, *map(str, args)], stdout=follower, stderr=subprocess.PIPE,
                         env=env)
    os.close(follower)
    out = b""
    deadline = time.monotonic() + (stop_after or 10)
    while time.monotonic() < deadline:
        if not select.select([leader], [], [], 0.1)[0]:
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        out += chunk
    if p.poll() is None:
        p.terminate()
    p.wait(10)
    os.close(leader)
    return p.returncode, out.decode(errors="replace")


def case_exit_codes(binary):
    # Nothing listening.
    expect_code(cli(binary, "status", "--url", f"http://127.0.0.1:{harness.free_port()}"),
                UNREACHABLE, "status against a closed port")
    expect_code(cli(binary, "explain", "x", "--url", "http://127.0.0.1:1"), UNREACHABLE,
                "explain against a closed port")
    expect_code(cli(binary, "status", "--url", "ftp://x"), 2, "a malformed --url")

    # An agent protecting /recommend with a token.
    d = harness.tempdir("boundwise-cli-")
    token_file, wrong_file = os.path.join(d, "token"), os.path.join(d, "wrong")
    with open(token_file, "w") as f:
        f.write("s3cret-token\n")
    with open(wrong_file, "w") as f:
        f.write("not-the-token\n")
    cpu = harness.start_workload("cpu_single.py")
    agent = harness.Agent(binary, [{"name": "cpu", "pid": cpu.pid}], window="1s",
                          extra=f"web:\n  bearer_token_file: {token_file}\n")
    url = ["--url", agent.base]
    expect_code(cli(binary, "status", *url), UNAUTHORISED, "status without the token")
    expect_code(cli(binary, "status", *url, "--bearer-token-file", wrong_file), UNAUTHORISED,
                "status with a wrong token")
    expect_code(cli(binary, "status", *url, "--bearer-token-file", os.path.join(d, "none")), 2,
                "status with a missing token file")
    auth = [*url, "--bearer-token-file", token_file]
    if not harness.wait_until(lambda: harness.http_get(agent.base + "/readyz")[0] == 200, 10):
        harness.fail("the agent was not ready within 10 s:\n" + agent.read_log())
    if not harness.wait_until(lambda: cli(binary, "status", *auth, "--workload", "cpu")
                              .returncode == 0, 10):
        harness.fail("status --workload cpu with the token never succeeded")
    expect_code(cli(binary, "explain", "cpu", *auth), 0, "explain cpu with the token")
    expect_code(cli(binary, "explain", "nope", *auth), UNKNOWN, "explain of an unknown workload")
    unknown = cli(binary, "status", *auth, "--workload", "nope")
    expect_code(unknown, UNKNOWN, "status --workload nope")
    if "cpu" not in unknown.stderr:
        harness.fail(f"the unknown-workload message should name the known ones: {unknown.stderr}")

    # An agent protecting /recommend with basic auth: the password comes from a file.
    password_file = os.path.join(d, "password")
    with open(password_file, "w") as f:
        f.write("correct horse battery\n")  # spaces are part of it, the newline is not
    with open(wrong_file, "w") as f:
        f.write("correct horse\n")
    users = f'    alice: "{harness.bcrypt("correct horse battery")}"\n'
    basic_agent = harness.Agent(binary, [{"name": "cpu", "pid": cpu.pid}], window="1s",
                                extra=f"web:\n  basic_auth_users:\n{users}")
    url = ["--url", basic_agent.base]
    alice = [*url, "--basic-auth-user", "alice", "--basic-auth-password-file"]
    if not harness.wait_until(lambda: cli(binary, "status", *alice, password_file)
                              .returncode == 0, 10):
        harness.fail("status with alice's password never succeeded:\n" + basic_agent.read_log())
    expect_code(cli(binary, "explain", "cpu", *alice, password_file), 0,
                "explain cpu with alice's password")
    expect_code(cli(binary, "status", *url), UNAUTHORISED, "status without a password")
    wrong = cli(binary, "status", *alice, wrong_file)
    expect_code(wrong, UNAUTHORISED, "status with a wrong password")
    if "--basic-auth-password-file" not in wrong.stderr:
        harness.fail(f"a wrong password's message should point at the option: {wrong.stderr}")
    expect_code(cli(binary, "status", *url, "--basic-auth-user", "alice"), 2,
                "a user without a password file")
    expect_code(cli(binary, "status", *alice, password_file, "--bearer-token-file", token_file),
                2, "basic auth and a bearer token together")
    expect_code(cli(binary, "status", *alice, os.path.join(d, "none")), 2,
                "a missing password file")

    # Before the first window closes (a 60 s window): not ready.
    slow = harness.Agent(binary, [{"name": "cpu", "pid": cpu.pid}], window="60s")
    expect_code(cli(binary, "status", "--url", slow.base), NOT_READY, "status before a window")
    expect_code(cli(binary, "explain", "cpu", "--url", slow.base), NOT_READY,
                "explain before a window")


def case_tls(binary):
    d = harness.tempdir("boundwise-cli-tls-")
    cert, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    if r.returncode != 0:
        harness.skip(f"openssl could not make a test certificate: {r.stderr.strip()}")
    port = harness.free_port()
    config = os.path.join(d, "boundwise.yaml")
    with open(config, "w") as f:
        f.write(f'listen: "127.0.0.1:{port}"\nwindow: 1s\n'
                f"web:\n  tls:\n    cert_file: {cert}\n    key_file: {key}\n")
    log_path = os.path.join(d, "agent.log")
    harness.start([binary, "--config", config], stdout=open(log_path, "w"),
                  stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    ok = harness.wait_until(
        lambda: cli(binary, "status", "--url", url, "--ca-file", cert).returncode == 0, 10,
        interval=0.2)
    if not ok:
        harness.fail("status over https with --ca-file never succeeded:\n" + open(log_path).read())
    # The certificate is not in the system's trust store: refused, as unreachable.
    expect_code(cli(binary, "status", "--url", url), UNREACHABLE, "https without --ca-file")
    # Plain HTTP to an HTTPS agent.
    expect_code(cli(binary, "status", "--url", f"http://127.0.0.1:{port}"), UNREACHABLE,
                "http:// to an https agent")


CASES = {"status_explain": case_status_explain, "exit_codes": case_exit_codes, "tls": case_tls}


if __name__ == "__main__":
    harness.run_cases(CASES)
