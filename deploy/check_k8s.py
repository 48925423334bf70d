"""What the Kubernetes schemas cannot say, checked on the rendered manifests (kustomize's
output): probes on the right paths, a grace period that covers preStop, the drain and the
longest request, the scrape annotations on the metrics port, the non-root uid of the image,
the WebSocket timeouts of the Ingress, and which objects each rendering holds.

usage: check_k8s.py RENDERED.yaml DOCKERFILE (base|production)"""
import re
import sys

import yaml


def main(rendered, dockerfile, flavour):
    with open(rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    problems = []

    def need(cond, what):
        if not cond:
            problems.append(what)

    expected = {"ServiceAccount", "ConfigMap", "Service", "Deployment", "PodDisruptionBudget",
                "HorizontalPodAutoscaler", "Job", "Ingress"}
    expected |= {"Secret"} if flavour == "base" else {"Namespace"}
    need(set(by_kind) == expected, f"kinds {sorted(by_kind)} are not {sorted(expected)}")
    if problems:
        sys.exit(f"{rendered}: " + "; ".join(problems))

    maps = {m["metadata"]["name"]: m for m in by_kind["ConfigMap"]}
    config = next(m["data"] for n, m in maps.items() if not n.startswith("progress-dashboard-alerts"))
    if flavour == "production":
        need("progress-dashboard-alerts" in maps and "alerts.yaml" in maps["progress-dashboard-alerts"]["data"],
             "production ships the alert rules for Prometheus to mount")
    deployment = by_kind["Deployment"][0]
    pod = deployment["spec"]["template"]
    spec = pod["spec"]
    api = spec["containers"][0]
    with open(dockerfile) as f:
        uid = re.search(r"^USER (\d+)", f.read(), re.M).group(1)
    need(str(spec["securityContext"]["runAsUser"]) == uid, f"the pod runs as the image's uid {uid}")
    need(spec["securityContext"]["runAsNonRoot"] is True, "runAsNonRoot")
    sc = api["securityContext"]
    need(sc["readOnlyRootFilesystem"] is True, "a read-only root file system")
    need(sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"],
         "no privilege escalation, no capabilities")
    mounts = {m["mountPath"] for m in api.get("volumeMounts", [])}
    need(config["REPORTS_OUTBOX_DIR"] in mounts, "the outbox is a mounted, writable volume")
    need(api["readinessProbe"]["httpGet"]["path"] == "/ready", "readiness on /ready")
    need(api["livenessProbe"]["httpGet"]["path"] == "/health", "liveness on /health")
    pre_stop = api["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = int(config["SHUTDOWN_DRAIN_MS"]) / 1000
    longest = int(config["REQUEST_TIMEOUT_MS"]) / 1000
    grace = spec["terminationGracePeriodSeconds"]
    need(grace >= pre_stop + drain + longest,
         f"terminationGracePeriodSeconds {grace} covers preStop {pre_stop} + drain {drain} "
         f"+ the longest request {longest}")
    need("memory" in api["resources"]["limits"] and "cpu" in api["resources"]["requests"],
         "resources requested and the memory limited")
    metrics_port = config["METRICS_ADDR"].rsplit(":", 1)[1]
    notes = pod["metadata"]["annotations"]
    need(notes.get("prometheus.io/scrape") == "true" and notes.get("prometheus.io/port") == metrics_port,
         f"scrape annotations name the metrics port {metrics_port}")
    need(any(str(p["containerPort"]) == metrics_port for p in api["ports"]),
         "the metrics port is a container port")
    need(config.get("MIGRATE_ON_START") == "false", "the Job migrates, not every pod")
    job = by_kind["Job"][0]["spec"]["template"]["spec"]
    need(job["containers"][0]["args"] == ["migrate"], "the Job runs `migrate`")
    need(job["containers"][0]["image"] == api["image"], "the Job runs the Deployment's image")
    ingress = by_kind["Ingress"][0]["metadata"]["annotations"]
    need(int(ingress["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 60,
         "the Ingress holds idle WebSockets past the server's pings")
    hpa = by_kind["HorizontalPodAutoscaler"][0]["spec"]
    need(hpa["minReplicas"] >= 2, "at least two pods")
    need(deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0,
         "a release never lowers capacity")
    if flavour == "production":
        need(":latest" not in api["image"], "production pins its image")
        need(config["AUTH_MODE"] == "jwt", "production requires tokens")
        need(by_kind["Ingress"][0]["spec"].get("tls"), "production serves TLS")
    if problems:
        sys.exit(f"{rendered}: " + "; ".join(problems))
    print(f"{flavour}: {len(docs)} objects, grace {grace}s >= {pre_stop}+{drain:g}+{longest:g}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
