#!/bin/bash
# deploy/kubernetes without a cluster (docs/fleet.md): both kustomizations render with
# `kubectl kustomize`; every rendered object passes tests/k8s/validate.mjs (the
# Kubernetes and prometheus-operator schemas, unknown fields, the API server's
# cross-field rules); the validator refuses a manifest broken in each of those ways; and
# the manifests agree with the rest of the tree: the unit's capabilities, the default
# policy, the image's version, `ioguard run`'s options, the plain rules files.
# Prints "ok"/"not ok" lines.
set -u
. "$(dirname "$0")/lib.bash"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
deploy="$repo/deploy/kubernetes"

for tool in kubectl:kubernetes-client node:nodejs jq:jq; do
	if ! command -v "${tool%%:*}" > /dev/null; then
		echo "SKIP: no ${tool%%:*} (Debian's ${tool#*:}, installed by scripts/deps.sh)"
		exit 77
	fi
done
validator=$("$repo/scripts/k8s-validate-deps.sh" --dir)
if [ ! -f "$validator/.complete" ]; then
	echo "SKIP: the validator's npm packages are not in $validator (scripts/deps.sh installs them through scripts/k8s-validate-deps.sh)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# validate.mjs resolves its packages beside itself.
ln -s "$validator/node_modules" "$work/node_modules"
cp "$repo/tests/k8s/validate.mjs" "$work/"
mkdir "$work/json"

# render NAME DIR: `kubectl kustomize DIR` into $work/NAME.yaml
render() {
	local out
	if out=$(kubectl kustomize "$2" 2>&1 > "$work/$1.yaml"); then
		echo "ok kubectl kustomize ${2#"$repo"/}"
	else
		echo "not ok kubectl kustomize ${2#"$repo"/}: $out"
		rm -f "$work/$1.yaml"
	fi
}
render base "$deploy"
render iommufd "$deploy/iommufd"
[ -f "$work/base.yaml" ] || exit 1

# Broken copies of the base, each with one mistake and the error that must name it.
declare -A broken=(
	[unknown-field]='s/hostPID: true/hostPid: true/|spec.template.spec.hostPid'
	[wrong-type]='s/readOnlyRootFilesystem: true/readOnlyRootFilesystem: "yes"/|readOnlyRootFilesystem must be boolean'
	[bidirectional]='s/mountPropagation: HostToContainer/mountPropagation: Bidirectional/|Bidirectional mount propagation is available only to privileged containers'
	[cap-sys-admin]='s/- SYS_ADMIN$/- CAP_SYS_ADMIN/|cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'
	[servicemonitor-field]='s/interval: 30s/intervall: 30s/|spec.endpoints[0].intervall'
	[rule-without-expr]='s/^\( *\)expr: /\1exp: /|must have required property expr'
	[unknown-kind]='s/^kind: PrometheusRule$/kind: PrometheusRules/|no schema for apiVersion monitoring.coreos.com/v1 kind PrometheusRules'
)
for b in "${!broken[@]}"; do
	sed "${broken[$b]%%|*}" "$work/base.yaml" > "$work/broken-$b.yaml"
	cmp -s "$work/base.yaml" "$work/broken-$b.yaml" &&
		echo "not ok broken manifest $b: the edit '${broken[$b]%%|*}' changed nothing"
done

good=("$work/base.yaml")
[ -f "$work/iommufd.yaml" ] && good+=("$work/iommufd.yaml")
start=$(date +%s%N)
(cd "$work" && node validate.mjs --dump json "${good[@]##*/}" broken-*.yaml) > "$work/validate.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ $rc -eq 2 ]; then
	echo "not ok validate.mjs could not run: $(cat "$work/validate.out")"
	exit 1
fi
# The good renders' lines as they are: one "ok" per valid object.
grep -E '^(not )?ok (base|iommufd)\.yaml: ' "$work/validate.out"
grep -qE '^(not )?ok base.yaml: DaemonSet ' "$work/validate.out" ||
	echo "not ok the base renders no DaemonSet"
for b in "${!broken[@]}"; do
	want=${broken[$b]#*|}
	if grep "^not ok broken-$b.yaml: " "$work/validate.out" | grep -qF -- "$want"; then
		echo "ok the validator refuses broken manifest $b: $want"
	else
		echo "not ok the validator accepts broken manifest $b (want \"$want\"):"
		grep "broken-$b.yaml" "$work/validate.out" | sed 's/^/    /' | head -5
	fi
done
echo "# validate.mjs: $((${#good[@]} + ${#broken[@]})) files in one run, $ms ms"

# What the manifests must say, from the rendered base.
objects="$work/json/base.yaml.json"
ds() { jq -c "[.[] | select(.kind == \"DaemonSet\")][0] | $1" "$objects"; }
container() { ds ".spec.template.spec.containers[0] | $1"; }
# expect NAME GOT WANT
expect() {
	if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: got $2, want $3"; fi
}

unit_caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$repo/docs/systemd/ioguard.service" |
	tr ' ' '\n' | sed 's/^CAP_//' | sort | jq -R . | jq -cs .)
expect "capabilities added are exactly the unit's" \
	"$(container '.securityContext.capabilities.add | sort')" "$unit_caps"
expect "capabilities: drop ALL" "$(container '.securityContext.capabilities.drop')" '["ALL"]'
expect "not privileged" "$(container '.securityContext.privileged')" false
expect "read-only root" "$(container '.securityContext.readOnlyRootFilesystem')" true
expect "runs as uid 0" "$(container '.securityContext.runAsUser')" 0
expect "seccomp RuntimeDefault" "$(container '.securityContext.seccompProfile.type')" '"RuntimeDefault"'
expect "AppArmor unconfined (the default profile denies securityfs and bpffs)" \
	"$(container '.securityContext.appArmorProfile.type')" '"Unconfined"'
expect "hostPID" "$(ds '.spec.template.spec.hostPID')" true
expect "bpffs shared from the host" \
	"$(container '[.volumeMounts[] | select(.mountPath == "/sys/fs/bpf") | (.readOnly // false), .mountPropagation]')" \
	'[false,"HostToContainer"]'
expect "the policy is mounted as a directory (no subPath: the kubelet never updates one)" \
	"$(container '[.volumeMounts[] | select(.mountPath == "/etc/ioguard") | has("subPath")]')" '[false]'
expect "node selector on ioguard.io/bpf-lsm" \
	"$(ds '.spec.template.spec.nodeSelector["ioguard.io/bpf-lsm"]')" '"true"'

version=$(sed -n '1s/^ioguard (\([^)]*\)).*/\1/p' "$repo/debian/changelog")
expect "image ioguard:$version (debian/changelog)" "$(container '.image')" "\"ioguard:$version\""

policy=$(jq -j '[.[] | select(.kind == "ConfigMap" and .metadata.name == "ioguard-policy")][0].data["policy.yaml"]' "$objects")
if [ "$policy" = "$(cat "$repo/policies/default.yaml")" ]; then
	echo "ok the ConfigMap's policy is policies/default.yaml"
else
	echo "not ok the ConfigMap's policy differs from policies/default.yaml (cp it to deploy/kubernetes/base/policy.yaml)"
fi
mount=$(container '[.volumeMounts[] | select(.mountPath == "/etc/ioguard")][0].name')
expect "the policy volume is the ConfigMap" \
	"$(ds ".spec.template.spec.volumes[] | select(.name == $mount) | .configMap.name")" '"ioguard-policy"'
expect "the daemon reads the ConfigMap's file" \
	"$(container '.args | index("--policy") as $i | .[$i + 1]')" '"/etc/ioguard/policy.yaml"'

port=$(container '.ports[] | select(.name == "metrics") | .containerPort')
expect "--listen serves the metrics port" \
	"$(container '.args | index("--listen") as $i | .[$i + 1]')" "\"\$(POD_IP):$port\""
expect "the Service targets the metrics port" \
	"$(jq -c '[.[] | select(.kind == "Service")][0].spec.ports[0].targetPort' "$objects")" '"metrics"'
expect "the ServiceMonitor scrapes the Service's port" \
	"$(jq -c '[.[] | select(.kind == "ServiceMonitor")][0].spec.endpoints[0].port' "$objects")" '"metrics"'

if [ -x "$IOGUARD" ]; then
	known=$(help_options run)
	for opt in $(container '.args[]' | jq -r 'select(startswith("--"))'); do
		if grep -qx -- "$opt=\?" <<< "$known"; then
			echo "ok ioguard run knows $opt"
		else
			echo "not ok ioguard run has no option $opt (ioguard run --help)"
		fi
	done
else
	echo "SKIP: no $IOGUARD (make build/ioguard): the DaemonSet's options are not checked against ioguard run --help"
fi

if "$repo/scripts/gen-prometheusrule.sh" > "$work/prometheusrule.yaml" &&
	cmp -s "$work/prometheusrule.yaml" "$deploy/base/prometheusrule.yaml"; then
	echo "ok the PrometheusRule is generated from docs/prometheus/*-rules.yml"
else
	echo "not ok deploy/kubernetes/base/prometheusrule.yaml differs from docs/prometheus/*-rules.yml: run make deploy-rules"
fi

if [ -f "$work/json/iommufd.yaml.json" ]; then
	expect "iommufd/: /dev/iommu as a character device" \
		"$(jq -c '[.[] | select(.kind == "DaemonSet")][0].spec.template.spec.volumes[] | select(.name == "dev-iommu") | .hostPath.type' "$work/json/iommufd.yaml.json")" \
		'"CharDevice"'
	expect "iommufd/: only on nodes labelled ioguard.io/iommufd" \
		"$(jq -c '[.[] | select(.kind == "DaemonSet")][0].spec.template.spec.nodeSelector["ioguard.io/iommufd"]' "$work/json/iommufd.yaml.json")" \
		'"true"'
fi
