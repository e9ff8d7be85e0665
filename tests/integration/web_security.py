"""The agent's endpoints as an SRE secures them, against the real binary: HTTPS with
basic auth, bearer-token rotation by SIGHUP (and an invalid reload that keeps the old
config), and secrets in a target's command line and environment that must appear
nowhere the agent writes; a flood of wrong passwords that must not slow other clients.

usage: web_security.py --agent PATH --case tls_auth|sighup_reload|secrets_redacted|auth_flood
"""
import base64
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402


def request(url, auth=None, context=None, timeout=5):
    """(status, headers, body); status 0 when no HTTP answer came back."""
    req = urllib.request.Request(url)
    if auth:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()
    except (urllib.error.URLError, ConnectionError, OSError):
        return 0, {}, ""


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def start_agent(binary, config_text, scheme="http", log_level=None):
    d = harness.tempdir("boundwise-web-")
    port = harness.free_port()
    config = os.path.join(d, "boundwise.yaml")
    with open(config, "w") as f:
        f.write(f'listen: "127.0.0.1:{port}"\nwindow: 2s\ndiscovery_interval: 1s\n' + config_text)
    log_path = os.path.join(d, "agent.log")
    log = open(log_path, "w")
    args = [binary, "--config", config] + (["--log-level", log_level] if log_level else [])
    p = harness.start(args, stdout=log, stderr=subprocess.STDOUT)
    return p, port, config, log_path, d


def expect(cond, message, log_path=None):
    if not cond:
        harness.fail(message + ("\nagent log:\n" + open(log_path).read() if log_path else ""))


def case_tls_auth(binary):
    d = harness.tempdir("boundwise-tls-")
    cert, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    if r.returncode != 0:
        harness.skip(f"openssl could not make a test certificate: {r.stderr.strip()}")
    users = f'    alice: "{harness.bcrypt("correct horse")}"\n'
    p, port, _, log_path, _ = start_agent(
        binary, f"web:\n  tls:\n    cert_file: {cert}\n    key_file: {key}\n"
        f"  basic_auth_users:\n{users}")
    context = ssl.create_default_context(cafile=cert)
    base = f"https://127.0.0.1:{port}"
    harness.wait_healthy(p, base, log_path, context)

    status, _, _ = request(f"http://127.0.0.1:{port}/healthz")
    expect(status != 200, "plain HTTP was answered on the TLS port")
    expect(request(base + "/metrics", context=context)[0] == 200, "/metrics must stay open")
    status, headers, body = request(base + "/recommend", context=context)
    expect(status == 401, f"/recommend without credentials: {status}")
    expect(headers.get("WWW-Authenticate") == 'Basic realm="boundwise"',
           f"challenge: {headers}")
    expect(request(base + "/recommend", basic("alice", "wrong"), context)[0] == 401,
           "a wrong password was accepted")
    expect(request(base + "/recommend", basic("mallory", "correct horse"), context)[0] == 401,
           "an unknown user was accepted")
    status, _, body = request(base + "/recommend", basic("alice", "correct horse"), context)
    expect(status == 200 and '"workloads"' in body, f"right credentials: {status} {body[:200]}")
    # A TLS client that connects and never handshakes does not keep the agent from
    # serving others.
    idle = socket.create_connection(("127.0.0.1", port))
    expect(request(base + "/healthz", context=context)[0] == 200, "blocked by an idle client")
    idle.close()

    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    code = p.wait(10)
    expect(code == 0 and time.time() - t0 < 5, f"SIGTERM: exit {code} after "
           f"{time.time() - t0:.1f} s (want 0 within 5 s)", log_path)


def metric(base, name, auth=None):
    _, _, text = request(base + "/metrics", auth)
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{}"):
            return float(line.split()[-1])
    return None


def wait_log(log_path, phrase, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if phrase in open(log_path).read():
            return True
        time.sleep(0.1)
    return False


def case_sighup_reload(binary):
    d = harness.tempdir("boundwise-hup-")
    token_file = os.path.join(d, "token")
    with open(token_file, "w") as f:
        f.write("first-token\n")
    web = f"web:\n  bearer_token_file: {token_file}\n  protected_endpoints: [/recommend]\n"
    p, port, config, log_path, _ = start_agent(binary, web)
    base = f"http://127.0.0.1:{port}"
    harness.wait_healthy(p, base, log_path)
    expect(request(base + "/recommend", "Bearer first-token")[0] == 200, "first token refused")
    expect(metric(base, "boundwise_config_last_reload_successful") == 1.0,
           "reload gauge is not 1 at start")

    # Rotate the token: the new one works after SIGHUP, the old one no longer does.
    with open(token_file, "w") as f:
        f.write("second-token\n")
    p.send_signal(signal.SIGHUP)
    expect(wait_log(log_path, "configuration reloaded"), "no reload logged", log_path)
    expect(request(base + "/recommend", "Bearer first-token")[0] == 401, "old token still works")
    expect(request(base + "/recommend", "Bearer second-token")[0] == 200, "new token refused")
    expect(metric(base, "boundwise_config_last_reload_successful") == 1.0, "gauge after reload")

    # An invalid config keeps the running one and says why.
    with open(config) as f:
        text = f.read()
    with open(config, "w") as f:
        f.write(text.replace("window: 2s", "window: forever"))
    p.send_signal(signal.SIGHUP)
    expect(wait_log(log_path, "configuration not reloaded"), "invalid reload not logged",
           log_path)
    log = open(log_path).read()
    expect("bad duration" in log, "the log does not say what is wrong", log_path)
    expect(metric(base, "boundwise_config_last_reload_successful") == 0.0,
           "gauge is not 0 after a failed reload")
    expect(request(base + "/recommend", "Bearer second-token")[0] == 200,
           "the running config was lost")
    expect(p.poll() is None, "the agent exited on a bad reload", log_path)
    # The agent goes on classifying after all this.
    status, _, body = request(base + "/readyz")
    deadline = time.time() + 8
    while status != 200 and time.time() < deadline:
        time.sleep(0.25)
        status, _, body = request(base + "/readyz")
    expect(status == 200, f"/readyz after reloads: {status} {body}", log_path)


def case_secrets_redacted(binary):
    secret = "hunter2-Zq8pW3"
    env = dict(os.environ, DB_PASSWORD="env-" + secret)
    target = harness.start([harness.PYTHON, os.path.join(harness.WORKLOADS, "cpu_single.py"),
                            f"--password={secret}", "--token", "tok-" + secret], env=env)
    p, port, _, log_path, _ = start_agent(
        binary, 'targets:\n  - name: secretive\n    cmdline: "cpu_single"\n',
        log_level="debug")
    base = f"http://127.0.0.1:{port}"
    harness.wait_healthy(p, base, log_path)
    # Wait for the target to be classified, so every output has had the chance to leak.
    deadline = time.time() + 15
    body = ""
    while time.time() < deadline:
        status, _, body = request(base + "/recommend?workload=secretive")
        if status == 200 and '"verdict": {' in body:
            break
        time.sleep(0.5)
    expect('"verdict": {' in body, f"target never classified: {body[:400]}", log_path)
    outputs = {"/recommend": request(base + "/recommend")[2],
               "/metrics": request(base + "/metrics")[2],
               "/": request(base + "/")[2]}
    harness.stop(p)
    outputs["log"] = open(log_path).read()
    for where, text in outputs.items():
        expect(secret not in text, f"the secret leaked into {where}")
    expect(target.poll() is None, "the target died")


def case_auth_flood(binary):
    """A flood of wrong basic-auth passwords (bcrypt at cost 12, ~0.2 s each) must not
    hold up other clients: bcrypt runs off the HTTP thread, its queue is bounded (503
    beyond), and /metrics and /healthz answer meanwhile."""
    costly = harness.bcrypt("correct horse", cost=12)
    p, port, _, log_path, _ = start_agent(
        binary, f'web:\n  basic_auth_users:\n    alice: "{costly}"\n', log_level="warn")
    base = f"http://127.0.0.1:{port}"
    harness.wait_healthy(p, base, log_path)
    import threading
    stop = threading.Event()
    flood_statuses = []

    def flood(n):
        while not stop.is_set():
            status, _, _ = request(base + "/recommend", auth=basic("alice", f"wrong{n}"))
            flood_statuses.append(status)

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    # Until the slow path is full: its bounded queue turns the flood away with 503.
    expect(harness.wait_until(lambda: 503 in flood_statuses, 10),
           f"no 503 from the flood within 10 s: {sorted(set(flood_statuses))}", log_path)
    latencies = []
    deadline = time.time() + 4
    while time.time() < deadline:
        for path in ("/metrics", "/healthz"):
            t0 = time.monotonic()
            status, _, _ = request(base + path)
            latencies.append(time.monotonic() - t0)
            expect(status == 200, f"{path} answered {status} during the flood", log_path)
    stop.set()
    for t in threads:
        t.join()
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    worst = latencies[-1]
    print(f"during the flood: {len(latencies)} requests, p50 {p50 * 1e3:.1f} ms, "
          f"max {worst * 1e3:.1f} ms; flood answers: 401 x{flood_statuses.count(401)}, "
          f"503 x{flood_statuses.count(503)}, load {os.getloadavg()}")
    # One bcrypt run takes ~200 ms: waiting behind even one would show.
    expect(p50 < 0.05 and worst < 0.5,
           f"other clients waited: p50 {p50 * 1e3:.1f} ms, max {worst * 1e3:.1f} ms", log_path)
    # 0: the flooding client gave up (its 5 s timeout) while queued; nothing else.
    expect(flood_statuses.count(401) > 0 and set(flood_statuses) <= {0, 401, 503},
           f"flood answers {sorted(set(flood_statuses))}", log_path)
    status, _, _ = request(base + "/recommend", auth=basic("alice", "correct horse"))
    expect(status == 200, f"the right password after the flood: {status}", log_path)


CASES = {"tls_auth": case_tls_auth, "sighup_reload": case_sighup_reload,
         "secrets_redacted": case_secrets_redacted, "auth_flood": case_auth_flood}


if __name__ == "__main__":
    harness.run_cases(CASES)
