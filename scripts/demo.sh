#!/usr/bin/env bash
# make demo: a kubelab control plane with sample workloads, and palisade serve
# beside it. Stays up until Ctrl-C; DEMO_HOLD=0 runs the checks and exits
# (that is what CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
demo="$root/.demo"
rm -rf "$demo" && mkdir -p "$demo"
export PALISADE_DATA_DIR="$demo/data"
bin="$root/bin/palisade"
port=${DEMO_PORT:-18443}
regport=${DEMO_REGISTRY_PORT:-15000}
bundles=${PALISADE_VULNDB_BUNDLES:-$root/../shared/vulndb}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== $("$bin" version | head -1): starting a kubelab control plane (etcd + kube-apiserver)"
"$bin" lab up --dir "$demo/lab" --registry "127.0.0.1:$regport" >"$demo/lab.out" 2>"$demo/lab.err" &
pids+=($!)
for _ in $(seq 1 600); do
  grep -q 'registry:' "$demo/lab.out" 2>/dev/null && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then cat "$demo/lab.err" >&2; exit 1; fi
  sleep 0.1
done
grep -q 'registry:' "$demo/lab.out" || { echo "lab did not become ready" >&2; cat "$demo/lab.err" >&2; exit 1; }
sed -n '1p;/registry:/,$p' "$demo/lab.out"
reg="127.0.0.1:$regport"
export KUBECONFIG="$demo/lab/kubeconfig"
kubectl="${KUBELAB_BIN:-$HOME/.cache/palisade/kubelab/v1.37.2}/kubectl"

echo "== loading sample workloads (deploy/demo/workloads.yaml)"
"$kubectl" apply -f deploy/demo/workloads.yaml
"$kubectl" get deployments,services -A -l '!component' 2>/dev/null | grep -v '^kube-system' || true

echo "== posture: the sample manifests, then the live lab cluster"
"$bin" posture scan --fail-on none deploy/demo/workloads.yaml | tail -n 4
"$bin" posture scan --fail-on none --kubeconfig "$KUBECONFIG" | tail -n 4

echo "== build time: scan images against real OSV advisories ($bundles)"
"$bin" db import "$bundles"/*-all.zip 2>&1 | tail -n 3
echo "-- $reg/shop/legacy:1.0 (2019 openssl and curl):"
set +e
"$bin" image scan --insecure-registry "$reg/shop/legacy:1.0" | tail -n 6
echo "   exit code: ${PIPESTATUS[0]}"
set -e
"$bin" key generate --output-prefix "$demo/ci" | tail -n 1
echo "-- $reg/shop/web:1.0 (current packages), attested on a pass:"
"$bin" image scan --insecure-registry --attest --key "$demo/ci.key" "$reg/shop/web:1.0" 2>&1 | tail -n 4
"$bin" image verify --insecure-registry --key "$demo/ci.pub" "$reg/shop/web:1.0"

cat >"$demo/palisade.yaml" <<YAML
registries:
  trusted: ["127.0.0.1:*/shop/*"]
admission:
  trustedKeys: [$demo/ci.pub]
YAML
echo "== deploy time: palisade serve on https://127.0.0.1:$port admits only attested images"
# serve also tails the lab API server's audit log (runtime detection) and
# watches registered clusters (continuous posture).
"$bin" --config "$demo/palisade.yaml" serve --listen "127.0.0.1:$port" --log-level warn \
  --audit-log-path "lab=$demo/lab/audit.log" >"$demo/serve.out" 2>"$demo/serve.err" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -skf "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
"$bin" --config "$demo/palisade.yaml" admission install --url "https://127.0.0.1:$port" --ca-file "$PALISADE_DATA_DIR/tls/tls.crt" | "$kubectl" apply -f -
"$kubectl" create namespace demo >/dev/null
admitted=""
denied=""
for _ in $(seq 1 50); do # the API server picks the webhook up asynchronously
  if out=$("$kubectl" -n demo run denied-probe --image="$reg/shop/legacy:1.0" 2>&1); then
    "$kubectl" -n demo delete pod denied-probe --wait=false >/dev/null
    sleep 0.2
  elif grep -q 'denied the request' <<<"$out"; then
    echo "-- unattested image: $out"
    denied=yes
    break
  else
    sleep 0.2 # refused for another reason (webhook not reachable yet …): retry
  fi
done
# Admitting the attested pod proves nothing if the webhook never denied the
# unattested one: that is the half of the demo that shows enforcement.
[ -n "$denied" ] || { echo "the unattested image $reg/shop/legacy:1.0 was never denied by the webhook (50 tries); last answer: ${out:-none}" >&2; exit 1; }
"$kubectl" -n demo run web --image="$reg/shop/web:1.0" && admitted=yes
[ -n "$admitted" ] || { echo "the attested image was not admitted" >&2; exit 1; }
echo "-- privileged pod from the attested image:"
"$kubectl" -n demo run root-shell --image="$reg/shop/web:1.0" --privileged 2>&1 | sed 's/^/   /' || true

token=$(grep -v '^#' "$PALISADE_DATA_DIR/api-tokens.csv" | head -1 | cut -d, -f1)
ca="$PALISADE_DATA_DIR/tls/tls.crt"
echo "   healthz: $(curl -s --cacert "$ca" "https://127.0.0.1:$port/healthz" | tr -d ' \n')"
echo "   readyz:  $(curl -s --cacert "$ca" "https://127.0.0.1:$port/readyz" | tr -d ' \n')"
echo "   API without token: HTTP $(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" "https://127.0.0.1:$port/api/v1/info")"
echo "   API with token:    $(curl -s --cacert "$ca" -H "Authorization: Bearer $token" "https://127.0.0.1:$port/api/v1/info" | tr -d '\n' | tr -s ' ')"

api() { curl -s --cacert "$ca" -H "Authorization: Bearer $token" "$@"; }
# alert_lines FILTER: one line per stored alert (severity, rule, title). The
# API pretty-prints: an item's own fields sit at six spaces of indentation.
alert_lines() {
  api "https://127.0.0.1:$port/api/v1/alerts?$1" | awk '
    /^    [{]/ { rule = ""; sev = ""; title = "" }
    /^      "ruleId": /   { rule = $2 }
    /^      "severity": / { sev = $2 }
    /^      "(title|ruleName)": / { sub(/^      "(title|ruleName)": /, ""); title = $0 }
    /^    [}]/ { gsub(/[",]/, "", rule); gsub(/[",]/, "", sev); gsub(/^"|",?$/, "", title); printf "   %-9s %-36s %s\n", sev, rule, title }' | sort -u
}

echo "== posture, continuous: register the lab cluster with palisade serve"
start=$(date +%s%N)
api -X POST -H 'Content-Type: application/yaml' --data-binary @"$KUBECONFIG" "https://127.0.0.1:$port/api/v1/clusters?name=lab"; echo
for _ in $(seq 1 600); do # the promise is 60 s
  alert_lines "cluster=lab" | grep -q ' posture/' && break
  sleep 0.1
done
echo "-- critical exposure alerts, $(( ($(date +%s%N) - start) / 1000000 )) ms after registration:"
alert_lines "cluster=lab" | grep ' posture/' || echo "   (none yet)"

echo "== runtime: an attack against the lab cluster, detected from its audit log"
"$kubectl" -n demo create serviceaccount intruder >/dev/null
"$kubectl" create clusterrolebinding intruder-admin --clusterrole=cluster-admin --serviceaccount=demo:intruder >/dev/null
"$kubectl" --as=system:serviceaccount:demo:intruder get secrets -A >/dev/null 2>&1
"$kubectl" --as=system:serviceaccount:demo:intruder -n kube-system run node-shell --image=busybox:1.36 --privileged >/dev/null 2>&1 || true
"$kubectl" --as=system:serviceaccount:demo:intruder -n demo exec web -- sh -c id >/dev/null 2>&1 || true # no kubelet: refused, still audited
echo "   done: SA token minted into cluster-admin, secrets listed, privileged pod in kube-system, exec attempted"
for _ in $(seq 1 300); do
  [ "$(alert_lines "cluster=lab" | grep -vc ' posture/')" -ge 3 ] && break
  sleep 0.1
done
echo "-- alerts raised:"
alert_lines "cluster=lab" | grep -v ' posture/' || echo "   (none)"

cat <<MSG

== try it
  export KUBECONFIG=$KUBECONFIG
  $kubectl get pods,deploy -A
  curl --cacert $ca https://127.0.0.1:$port/metrics | grep palisade_
  curl --cacert $ca -H "Authorization: Bearer \$(cut -d, -f1 $PALISADE_DATA_DIR/api-tokens.csv | grep -v '^#')" https://127.0.0.1:$port/api/v1/info
  $bin image scan --insecure-registry $reg/shop/legacy:1.0
  $kubectl -n demo run test --image=$reg/shop/legacy:1.0     # denied: no attestation
  audit log of the lab API server: $demo/lab/audit.log
MSG
if [ "${DEMO_HOLD:-1}" = "0" ]; then
  echo "== DEMO_HOLD=0: stopping"
  exit 0
fi
echo "Press Ctrl-C to stop the demo."
wait "${pids[0]}"
