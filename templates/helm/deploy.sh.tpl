{{- /*
  deploy.sh of the helm bundle (umbrella chart): the shared head
  (templates/shell/deploy.sh.tpl: options, retries, --best-effort,
  pre-flight checks), then the chart installed once per component.
*/ -}}
{{ include "../shell/deploy.sh.tpl" . }}
CHART="$SCRIPT_DIR"
if [ ! -d "$SCRIPT_DIR/charts" ]; then
  # fetch the sub-charts into a scratch copy: the bundle stays as delivered
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  CHART="$WORK/{{ .Chart.Name }}"
  cp -R "$SCRIPT_DIR/." "$CHART"
  retry "helm dependency update" run helm dependency update "$CHART" || exit 1
fi

# release NAME NAMESPACE MUST_WAIT: the umbrella chart as the release of one
# component, every other component disabled
release() {
  local name=$1 ns=$2 c
  local args=(upgrade --install "$name" "$CHART" --namespace "$ns" --create-namespace)
  for c in "${COMPONENTS[@]}"; do
    if [ "$c" != "$name" ]; then args+=(--set "$c.enabled=false"); fi
  done
  if [ "$WAIT_ALL" = 1 ] || [ "$3" = 1 ]; then args+=(--wait --timeout "$TIMEOUT"); fi
  ensure_namespace "$ns" || return 1
  retry "helm upgrade --install $name" run helm "${args[@]}" ${EXTRA[@]+"${EXTRA[@]}"}
}
{{ range .Components }}
component {{ .Name }} release {{ .Name }} {{ .Namespace }} {{ if .Wait }}1{{ else }}0{{ end }}
{{- end }}

finish
