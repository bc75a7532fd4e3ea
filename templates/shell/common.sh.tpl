{{- /*
  Shell functions shared by deploy.sh and undeploy.sh of the helm and
  helm-components deployers (included by templates/shell/deploy.sh.tpl and
  templates/shell/undeploy.sh.tpl). Dot: the bundle model. Needs SCRIPT
  (the script's name, for messages) and DRY_RUN set before use. Written for
  bash 3.2 and later (no associative arrays, no mapfile).
*/ -}}
# the bundle's components in deployment order, and the namespace of each
COMPONENTS=({{ range .Components }}{{ .Name }} {{ end }})
NAMESPACES=({{ range .Components }}{{ .Namespace }} {{ end }})
# namespaces deploy.sh creates carry the label eidos.nvidia.com/bundle=BUNDLE;
# undeploy.sh deletes only those
BUNDLE={{ .Chart.Name }}

say() { printf '%s\n' "$*"; }
warn() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }

# run COMMAND...: run it, or print it with --dry-run
run() {
  if [ "$DRY_RUN" = 1 ]; then printf '%q ' "$@"; echo; else "$@"; fi
}

# need COMMAND: stop unless COMMAND is on PATH
need() {
  command -v "$1" >/dev/null 2>&1 || { warn "$1 not found in PATH (this script needs helm and kubectl)"; exit 1; }
}

# in_list WORD LIST...: is WORD one of LIST?
in_list() {
  local w=$1 x
  shift
  for x in "$@"; do [ "$x" = "$w" ] && return 0; done
  return 1
}

# unique_namespaces: the bundle's namespaces, each once, in deployment order
unique_namespaces() {
  local seen=() ns
  for ns in "${NAMESPACES[@]}"; do
    if ! in_list "$ns" ${seen[@]+"${seen[@]}"}; then
      seen+=("$ns")
      say "$ns"
    fi
  done
}

# namespace_of RELEASE: the bundle's namespace of a component ("" if none)
namespace_of() {
  local i
  for i in "${!COMPONENTS[@]}"; do
    if [ "${COMPONENTS[$i]}" = "$1" ]; then say "${NAMESPACES[$i]}"; return 0; fi
  done
}

# duration D: a helm duration (30s, 10m, 1h30m); a bare number is seconds
duration() {
  if [[ $1 =~ ^[0-9]+$ ]]; then say "${1}s"; return 0; fi
  if [[ $1 =~ ^([0-9]+(ms|s|m|h))+$ ]]; then say "$1"; return 0; fi
  warn "--timeout '$1' is not a duration (accepted: 90s, 10m, 1h30m, or seconds)"
  exit 2
}

# release_status NAME NAMESPACE: the helm status of a release (deployed,
# failed, pending-install, ...), or nothing when there is no such release
release_status() {
  helm status "$1" --namespace "$2" 2>/dev/null | sed -n 's/^STATUS: *//p' | head -n 1
}

# webhook_services: one line per webhook configuration,
# "KIND NAME NAMESPACE/SERVICE..." (webhooks called by URL are left out)
webhook_services() {
  local kind out name refs
  for kind in mutatingwebhookconfigurations validatingwebhookconfigurations; do
    out=$(kubectl get "$kind" -o jsonpath='{range .items[*]}{.metadata.name}{"|"}{range .webhooks[*]}{.clientConfig.service.namespace}{"/"}{.clientConfig.service.name}{" "}{end}{"\n"}{end}') || return 1
    while IFS='|' read -r name refs; do
      if [ -n "$name" ]; then say "$kind $name $refs"; fi
    done <<< "$out"
  done
}

# service_missing NAMESPACE SERVICE: true only when the API server says the
# service does not exist (an error talking to it is not taken as "missing")
service_missing() {
  local out
  out=$(kubectl get service "$2" --namespace "$1" --ignore-not-found -o name 2>/dev/null) || return 1
  [ -z "$out" ]
}
