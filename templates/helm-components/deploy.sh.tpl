{{- /*
  deploy.sh of the helm-components bundle: the shared head
  (templates/shell/deploy.sh.tpl: options, retries, --best-effort,
  pre-flight checks), then each component folder in deployment order: its
  chart as a release of its own with its values.yaml, its manifests applied
  with kubectl before (objects whose CRD the chart brings may wait) and after
  the chart; a component without a chart is its manifests.
*/ -}}
{{ include "../shell/deploy.sh.tpl" . }}
# helm runs in an empty scratch directory: a folder of the bundle named like
# a chart (skyhook-operator/) must not be taken for that chart
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# chart NAME NAMESPACE MUST_WAIT CHART [--repo URL] --version V: the
# component's chart with its values.yaml
chart() {
  local name=$1 ns=$2 must_wait=$3
  shift 3
  local args=(upgrade --install "$name" "$@" --namespace "$ns" --create-namespace -f "$SCRIPT_DIR/$name/values.yaml")
  if [ "$WAIT_ALL" = 1 ] || [ "$must_wait" = 1 ]; then args+=(--wait --timeout "$TIMEOUT"); fi
  retry "helm upgrade --install $name" run helm "${args[@]}"
}

# manifests NAME NAMESPACE [pre]: kubectl apply of the component's
# manifests/; "pre" (before its chart) lets objects whose CRD the chart is
# about to install wait for the apply after it
manifests() {
  local dir="$SCRIPT_DIR/$1/manifests/" out errs
  if [ "${3:-}" != pre ] || [ "$DRY_RUN" = 1 ]; then
    retry "kubectl apply $1/manifests" run kubectl apply --namespace "$2" -f "$dir"
    return
  fi
  if out=$(kubectl apply --namespace "$2" -f "$dir" 2>&1); then say "$out"; return 0; fi
  errs=$(printf '%s\n' "$out" | grep -E '^(error|Error from server)' || true)
  if [ -n "$errs" ] && ! printf '%s\n' "$errs" | grep -v -q -E 'no matches for kind|resource mapping not found|ensure CRDs are installed first'; then
    printf '%s\n' "$out" | grep -v -E '^(error|Error from server)|ensure CRDs are installed first' || true
    say "    (objects whose CRD comes with the chart are applied after it)"
    return 0
  fi
  printf '%s\n' "$out" >&2
  return 1
}

# install NAME NAMESPACE MUST_WAIT HAS_MANIFESTS [CHART ARGS...]
install() {
  local name=$1 ns=$2 must_wait=$3 has_manifests=$4
  shift 4
  ensure_namespace "$ns" || return 1
  if [ $# -eq 0 ]; then
    manifests "$name" "$ns"
    return
  fi
  if [ "$has_manifests" = 1 ]; then manifests "$name" "$ns" pre || return 1; fi
  chart "$name" "$ns" "$must_wait" "$@" || return 1
  if [ "$has_manifests" = 1 ]; then manifests "$name" "$ns" || return 1; fi
}
{{ range .Components }}
component {{ .Name }} install {{ .Name }} {{ .Namespace }} {{ if .Wait }}1{{ else }}0{{ end }} {{ if .HasManifests }}1{{ else }}0{{ end }}
{{- if .HasChart }} {{ squote .ChartRef }}{{ if not .IsOCI }} --repo {{ squote .Repository }}{{ end }} --version {{ squote .Version }}{{ end }}
{{- end }}

finish
