#!/usr/bin/python3
"""The security properties of docker-compose.yml, from `docker-compose config`.

  test_compose_security.py COMPOSE_FILE KEYS_INIT DPCTL

Checks, and fails on the first broken one with what it found:
  - `docker-compose config` refuses to run without DP_PRIVACY_KEY, naming it;
  - every container drops every capability (cap_drop ALL) and adds back
    only what its image's start needs (postgres and the keys job, a fixed
    list each), sets no-new-privileges, has a read-only root file system,
    a memory limit and a task limit, is not privileged and does not share
    the host's network, PID or IPC namespace;
  - every image pulled from a registry has a point-release tag (15.10, not
    15, not "latest", not none), and so has every FROM line of the
    Dockerfiles the compose file builds; the stack's own image has a tag;
  - DP_PRIVACY_KEY reaches only the registry and the intake;
  - every service runs with CURVE (DP_CURVE_DIR set) and publishes no
    /metrics port (they have no authentication);
  - every published port is on 127.0.0.1 unless a variable says otherwise,
    and the dashboard follows DP_DASHBOARD_BIND (and nothing else does);
  - the keys each container holds: the keys job (deploy/keys-init, with the
    real dpctl) is run on folders standing for the volumes, as the compose
    file mounts them; then, for every other container, the files it would
    see through its own mounts are listed and
      * no file of the authority's private/ folder is among them,
      * every secret certificate it sees is its own: its service
        certificate (DP_CURVE_DIR/services/<itself>.key_secret) or a
        certificate its environment or health check names,
      * no secret is seen by two containers (one identity per caller),
      * each health check uses a certificate of role "health", its own,
      * a container that calls services (DP_CURVE_CLIENT_CERT) has a role
        "service" identity (or "staff" for the seed job) and the public
        keys of the services it calls,
      * every service reads clients/ from the very volume where the keys
        job writes it (one place to revoke), read-only.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

PRIVACY_KEY = "compose-security-test-0123456789abcdef"
# Capabilities a container may add back after dropping all, and why.
CAP_ADD_ALLOWED = {
    # the image's entrypoint prepares its folders as root, then drops to postgres
    "postgres": {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"},
    # the keys job gives fresh volumes to the user dp
    "keys": {"CHOWN", "DAC_OVERRIDE", "FOWNER"},
}
# The containers that run a service, by their command.
SERVICE_COMMANDS = {"dp-registry": "registry", "dp-intake": "intake", "dp-notify": "notify",
                    "dp-report": "report", "dp-console": "console"}
# Whom each caller calls (the public keys it needs).
CALLS = {"intake": ["registry", "notify"], "seed": ["registry"],
         "console": ["registry", "intake", "notify", "report"]}
# The role of a service's own client identity: the console is a front end
# (it names the person it acts for); the others call as services.
CALLER_ROLES = {"console": "frontend"}

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def compose_config(compose_file, extra_env):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("DP_"):
            del env[name]
    env.update(extra_env)
    return subprocess.run(["docker-compose", "-f", compose_file, "config"], env=env,
                          capture_output=True, text=True, timeout=60)


def load_config(compose_file, extra_env=None):
    env = {"DP_PRIVACY_KEY": PRIVACY_KEY}
    env.update(extra_env or {})
    run = compose_config(compose_file, env)
    if run.returncode != 0:
        print(run.stderr)
        sys.exit("docker-compose config failed with DP_PRIVACY_KEY set")
    return yaml.safe_load(run.stdout)


def check_privacy_key_required(compose_file):
    run = compose_config(compose_file, {})
    if run.returncode == 0:
        fail("docker-compose config succeeds without DP_PRIVACY_KEY (it must be required: "
             "${DP_PRIVACY_KEY:?...})")
    elif "DP_PRIVACY_KEY" not in run.stderr:
        fail("docker-compose config fails without DP_PRIVACY_KEY but does not name it: "
             + run.stderr.strip())


def environment(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def check_hardening(name, svc):
    caps = [str(c).upper() for c in svc.get("cap_drop") or []]
    if "ALL" not in caps:
        fail("%s: cap_drop does not contain ALL (%s)" % (name, caps))
    added = {str(c).upper() for c in svc.get("cap_add") or []}
    extra = added - CAP_ADD_ALLOWED.get(name, set())
    if extra:
        fail("%s: adds capabilities beyond what it needs: %s" % (name, sorted(extra)))
    opts = [str(o).replace("=", ":") for o in svc.get("security_opt") or []]
    if "no-new-privileges:true" not in opts:
        fail("%s: security_opt lacks no-new-privileges:true (%s)" % (name, opts))
    if svc.get("read_only") is not True:
        fail("%s: the root file system is not read-only (read_only: true)" % name)
    if not svc.get("mem_limit"):
        fail("%s: no memory limit (mem_limit)" % name)
    if not svc.get("pids_limit"):
        fail("%s: no task limit (pids_limit)" % name)
    if svc.get("privileged"):
        fail("%s: privileged" % name)
    for key in ("network_mode", "pid", "ipc"):
        if str(svc.get(key, "")) == "host":
            fail("%s: %s is host" % (name, key))
    image = str(svc.get("image", ""))
    if not pinned(image, built="build" in svc):
        fail("%s: image %r is not pinned to a version" % (name, image))
    build = svc.get("build")
    if isinstance(build, dict):
        dockerfile = os.path.join(build.get("context", "."), build.get("dockerfile", "Dockerfile"))
        for line in open(dockerfile, encoding="utf-8"):
            m = re.match(r"\s*FROM\s+(?:--\S+\s+)*(\S+)", line, re.I)
            if m and not pinned(m.group(1), built=False):
                fail("%s: %s starts FROM %r, not pinned to a point release"
                     % (name, dockerfile, m.group(1)))


def pinned(image, built):
    """A tag that names one release: 15.10-bookworm or 12.8-slim (a digest is
    better still); for an image this stack builds itself, any tag but latest."""
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.split(":", 1)[1]
    if not tag or tag == "latest":
        return False
    return built or re.match(r"[0-9]+\.[0-9]+", tag) is not None


def check_privacy_key_scope(name, svc):
    has = "DP_PRIVACY_KEY" in environment(svc)
    needs = SERVICE_COMMANDS.get(command(svc)) in ("registry", "intake")
    if has and not needs:
        fail("%s: gets DP_PRIVACY_KEY, which only the registry and the intake use" % name)
    if needs and environment(svc).get("DP_PRIVACY_KEY") != PRIVACY_KEY:
        fail("%s: does not get DP_PRIVACY_KEY from the environment" % name)


def check_curve_and_metrics(name, svc):
    if SERVICE_COMMANDS.get(command(svc)) and not environment(svc).get("DP_CURVE_DIR"):
        fail("%s: runs without CURVE (DP_CURVE_DIR is empty)" % name)
    metrics = environment(svc).get("DP_METRICS_PORT", "")
    targets = {"9101", "9102", "9103", "9104", "9105"}
    if metrics and metrics != "-1":
        targets.add(metrics)
    for ip, host, target in ports(svc):
        if target in targets:
            fail("%s: publishes its /metrics port %s" % (name, target))


def command(svc):
    cmd = svc.get("command") or []
    if isinstance(cmd, str):
        cmd = cmd.split()
    return cmd[0] if cmd else ""


def ports(svc):
    out = []
    for p in svc.get("ports") or []:
        if isinstance(p, dict):
            out.append((str(p.get("host_ip", "")), str(p.get("published")), str(p.get("target"))))
            continue
        parts = str(p).split("/")[0].split(":")
        if len(parts) == 3:
            out.append((parts[0], parts[1], parts[2]))
        else:
            out.append(("", parts[0], parts[-1]))
    return out


def check_ports(compose_file, config):
    for name, svc in config["services"].items():
        for ip, host, target in ports(svc):
            if ip != "127.0.0.1":
                fail("%s: port %s is published on %r by default, not 127.0.0.1" % (name, host, ip))
    moved = load_config(compose_file, {"DP_DASHBOARD_BIND": "192.0.2.7"})
    report_ports = [p for p in ports(moved["services"].get("report", {})) if p[2] == "8080"]
    if not report_ports or any(ip != "192.0.2.7" for ip, _, _ in report_ports):
        fail("report: the dashboard is not published on DP_DASHBOARD_BIND (%s)" % report_ports)
    for name, svc in moved["services"].items():
        for ip, host, target in ports(svc):
            if ip == "192.0.2.7" and not (name == "report" and target == "8080"):
                fail("%s: port %s follows DP_DASHBOARD_BIND too" % (name, host))


# ---- the keys each container holds ------------------------------------------------

def mounts(svc):
    """(volume, target, read_only) of each named volume; bind mounts as ('/path', ...)."""
    out = []
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            out.append((str(v.get("source")), str(v.get("target")), bool(v.get("read_only"))))
            continue
        parts = str(v).split(":")
        mode = parts[2] if len(parts) > 2 else "rw"
        out.append((parts[0], parts[1], "ro" in mode.split(",")))
    return out


def owner(mount_list, path):
    """The mount that holds a container path: the longest target that is a prefix."""
    best = None
    for source, target, ro in mount_list:
        if path == target or path.startswith(target.rstrip("/") + "/"):
            if best is None or len(target) > len(best[1]):
                best = (source, target, ro)
    return best


def run_keys_job(config, keys_init, dpctl, root):
    """Runs the keys job in a scratch folder laid out as its mounts, then
    stores what each mount received in root/volumes/<volume>."""
    jobs = [n for n, s in config["services"].items()
            if command(s) == "dp-keys-init"]
    if len(jobs) != 1:
        fail("there is not exactly one keys job (command dp-keys-init): %s" % jobs)
        return None
    job = config["services"][jobs[0]]
    env = environment(job)
    scratch = os.path.join(root, "job")
    job_mounts = mounts(job)
    for source, target, _ in job_mounts:
        os.makedirs(scratch + target, exist_ok=True)
    run_env = {"PATH": os.path.dirname(dpctl) + ":/usr/bin:/bin"}
    for key in ("DP_CURVE_DIR", "DP_KEYS_DELIVER"):
        if env.get(key):
            run_env[key] = scratch + env[key]
    run = subprocess.run(["/bin/sh", keys_init], env=run_env, capture_output=True, text=True,
                         timeout=120)
    if run.returncode != 0:
        sys.exit("the keys job failed:\n" + run.stdout + run.stderr)
    # Every file goes to the volume of the deepest mount that holds it.
    volumes = os.path.join(root, "volumes")
    for dirpath, _, files in os.walk(scratch):
        for f in files:
            path = os.path.join(dirpath, f)[len(scratch):]
            m = owner(job_mounts, path)
            if not m:
                fail("the keys job wrote %s outside its volumes (lost when it ends)" % path)
                continue
            dest = os.path.join(volumes, m[0], os.path.relpath(path, m[1]))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy(os.path.join(dirpath, f), dest)
    return jobs[0], job, volumes


def view(svc, volumes):
    """{container path: file on disk} of everything the container sees in its volumes."""
    seen = {}
    mount_list = mounts(svc)
    for source, target, _ in mount_list:
        base = os.path.join(volumes, source)
        for dirpath, _, files in os.walk(base):
            for f in files:
                path = os.path.join(target, os.path.relpath(os.path.join(dirpath, f), base))
                if owner(mount_list, path)[1] == target:  # not hidden by a deeper mount
                    seen[path] = os.path.join(dirpath, f)
    return seen


def cert_fields(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    fields = dict(re.findall(r'^\s*([a-z-]+)\s*=\s*"([^"]*)"', text, re.M))
    return fields


def health_cert(svc):
    test = (svc.get("healthcheck") or {}).get("test") or []
    for word in test:
        if str(word).startswith("DP_CURVE_CLIENT_CERT="):
            return str(word).split("=", 1)[1]
    return None


def check_keys(config, keys_init, dpctl):
    root = tempfile.mkdtemp(prefix="compose-security-")
    try:
        made = run_keys_job(config, keys_init, dpctl, root)
        if not made:
            return
        job_name, job, volumes = made
        job_env = environment(job)
        curve_dir = job_env.get("DP_CURVE_DIR", "")
        authority = owner(mounts(job), curve_dir)
        clients = owner(mounts(job), curve_dir + "/clients")
        holders = {}  # secret public key -> containers that see it
        for name, svc in config["services"].items():
            if name == job_name:
                continue
            env = environment(svc)
            seen = view(svc, volumes)
            for path in seen:
                if "/private/" in path:
                    fail("%s: sees %s, of the key authority's private/ folder" % (name, path))
            if authority and any(m[0] == authority[0] for m in mounts(svc)):
                fail("%s: mounts the key authority's volume %s" % (name, authority[0]))
            own = set()
            service = SERVICE_COMMANDS.get(command(svc))
            if service:
                own.add("%s/services/%s.key_secret" % (env.get("DP_CURVE_DIR", ""), service))
            for cert in (env.get("DP_CURVE_CLIENT_CERT"), health_cert(svc)):
                if cert:
                    own.add(cert)
            for path, disk in seen.items():
                fields = cert_fields(disk)
                if "secret-key" not in fields:
                    continue
                holders.setdefault(fields.get("public-key"), []).append(name)
                if path not in own:
                    fail("%s: sees the secret certificate %s (name %r), which is not its own"
                         % (name, path, fields.get("name")))
            hc = health_cert(svc)
            if service and not hc:
                fail("%s: its health check names no certificate (DP_CURVE_CLIENT_CERT=...)" % name)
            if hc:
                if hc not in seen:
                    fail("%s: its health check's certificate %s is not in the container" % (name, hc))
                elif cert_fields(seen[hc]).get("role") != "health":
                    fail("%s: its health check's certificate has role %r, not health"
                         % (name, cert_fields(seen[hc]).get("role")))
            cc = env.get("DP_CURVE_CLIENT_CERT")
            if cc:
                wanted = "staff" if not service else CALLER_ROLES.get(service, "service")
                if cc not in seen:
                    fail("%s: DP_CURVE_CLIENT_CERT %s is not in the container" % (name, cc))
                elif cert_fields(seen[cc]).get("role") != wanted:
                    fail("%s: its own identity has role %r, not %s"
                         % (name, cert_fields(seen[cc]).get("role"), wanted))
                for called in CALLS.get(service or name, []):
                    key = "%s/services/%s.key" % (env.get("DP_CURVE_DIR", ""), called)
                    if key not in seen:
                        fail("%s: calls %s but does not have its public key %s"
                             % (name, called, key))
            if service:
                secret = "%s/services/%s.key_secret" % (env.get("DP_CURVE_DIR", ""), service)
                if secret not in seen:
                    fail("%s: its service certificate %s is not in the container" % (name, secret))
                m = owner(mounts(svc), env.get("DP_CURVE_DIR", "") + "/clients/x.key")
                if not clients or not m or m[0] != clients[0]:
                    fail("%s: reads clients/ from %s, not from the volume the keys job writes "
                         "(%s): a revocation would not reach it" % (name, m and m[0],
                                                                  clients and clients[0]))
                elif not m[2]:
                    fail("%s: mounts clients/ writable" % name)
        for key, names in holders.items():
            if len(names) > 1:
                fail("one secret certificate is in several containers: %s" % sorted(names))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: test_compose_security.py COMPOSE_FILE KEYS_INIT DPCTL")
    compose_file, keys_init, dpctl = sys.argv[1:]
    check_privacy_key_required(compose_file)
    config = load_config(compose_file)
    for name, svc in config["services"].items():
        check_hardening(name, svc)
        check_privacy_key_scope(name, svc)
        check_curve_and_metrics(name, svc)
    check_ports(compose_file, config)
    check_keys(config, keys_init, dpctl)
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("ok: %d containers checked" % len(config["services"]))


if __name__ == "__main__":
    main()
