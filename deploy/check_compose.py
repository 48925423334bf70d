"""Reads deploy/compose.yaml as Docker Compose would (YAML anchors and merge keys), checks the
shape a deployment needs, and prints what the image test runs: the migrate and serve commands
and the instances' environment, as JSON. No engine is needed (none runs on this machine)."""
import json
import os
import re
import sys

import yaml


def interpolate(value):
    """Compose's ${NAME}, ${NAME:-default} and ${NAME-default}, from this environment."""
    def one(m):
        name, sep, default = m.group(1), m.group(2), m.group(3) or ""
        got = os.environ.get(name)
        if got is None or (sep == ":-" and got == ""):
            return default
        return got
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}", one, value)


def main(path):
    with open(path) as f:
        compose = yaml.safe_load(f)
    services = compose["services"]
    problems = []

    def need(cond, what):
        if not cond:
            problems.append(what)

    for name in ("postgres", "redis", "migrate", "app1", "app2", "lb"):
        need(name in services, f"service {name} is missing")
    if problems:
        sys.exit("deploy/compose.yaml: " + "; ".join(problems))
    migrate, app1, app2, lb = (services[n] for n in ("migrate", "app1", "app2", "lb"))
    need(migrate.get("command") == ["migrate"], "migrate runs `migrate`")
    need(migrate.get("restart") == "no", "migrate runs once (restart: no)")
    need(migrate["depends_on"]["postgres"]["condition"] == "service_healthy",
         "migrate waits for a healthy PostgreSQL")
    for name, app in (("app1", app1), ("app2", app2)):
        need(app.get("command") == ["serve"], f"{name} runs `serve`")
        need(app["depends_on"]["migrate"]["condition"] == "service_completed_successfully",
             f"{name} starts after the migrations")
        need(app.get("read_only") is True, f"{name} has a read-only root file system")
        need(app["environment"].get("MIGRATE_ON_START") == "false",
             f"{name} leaves migrations to the migrate service")
        need(app["image"] == migrate["image"], f"{name} runs the migrate service's image")
    need(app1["environment"] == app2["environment"], "the two instances share one environment")
    need(app1["environment"] == migrate["environment"], "migrate sees the instances' environment")
    need(all(lb["depends_on"][n]["condition"] == "service_healthy" for n in ("app1", "app2")),
         "the load balancer waits for healthy instances")
    need("./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in lb["volumes"],
         "the load balancer reads deploy/haproxy.cfg")
    need(lb["ports"] == ["8000:8000"], "the load balancer serves port 8000")
    tmpfs = app1.get("tmpfs", [])
    need(any(t.startswith("/var/lib/progress-dashboard/outbox") for t in tmpfs),
         "the outbox is the one writable place")
    if problems:
        sys.exit("deploy/compose.yaml: " + "; ".join(problems))
    print(json.dumps({
        "migrate": migrate["command"],
        "serve": app1["command"],
        "environment": {k: interpolate(str(v)) for k, v in app1["environment"].items()},
    }))


if __name__ == "__main__":
    main(sys.argv[1])
