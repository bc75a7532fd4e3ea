{{- /*
  <component>/README.md of the helm-components bundle. Dot: {Component}
  over the bundle model.
*/ -}}
{{- with .Component -}}
# {{ .Name }}

{{ if .HasChart -}}
| | |
|---|---|
| Chart | {{ if .IsOCI }}{{ .ChartRef }}{{ else }}{{ .Chart }} from {{ .Repository }}{{ end }} |
| Version | {{ .Version }} |
| Namespace | {{ .Namespace }} |
| Release | {{ .Name }} |

Position {{ .Position }} of {{ len $.Components }} in the deployment order{{ with .DependsOn }}; after {{ join ", " . }}{{ end }}.
`../deploy.sh` installs it with the others; by hand, from this folder:

```bash
{{- if .HasManifests }}
kubectl create namespace {{ .Namespace }} --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -n {{ .Namespace }} -f manifests/   # objects whose CRD the chart brings fail here: apply again after the chart
{{- end }}
helm upgrade --install {{ .Name }} {{ .ChartRef }}{{ if not .IsOCI }} --repo {{ .Repository }}{{ end }} --version {{ .Version }} \
  --namespace {{ .Namespace }} --create-namespace -f values.yaml --wait --timeout 15m
{{- if .HasManifests }}
kubectl apply -n {{ .Namespace }} -f manifests/
{{- end }}
```

Upgrade: the same `helm upgrade --install` command. Remove:

```bash
{{- if .HasManifests }}
kubectl delete -n {{ .Namespace }} -f manifests/ --ignore-not-found
{{- end }}
helm uninstall {{ .Name }} --namespace {{ .Namespace }}
```
{{- else -}}
Manifests only (no chart), applied in namespace {{ .Namespace }}.
Position {{ .Position }} of {{ len $.Components }} in the deployment order{{ with .DependsOn }}; after {{ join ", " . }}{{ end }}.
`values.yaml` holds the values its manifests were rendered with.
`../deploy.sh` applies them with the others; by hand, from this folder:

```bash
kubectl create namespace {{ .Namespace }} --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -n {{ .Namespace }} -f manifests/
```

Remove: `kubectl delete -n {{ .Namespace }} -f manifests/ --ignore-not-found`.
{{- end }}
{{- if .HasManifests }}

Manifests:
{{ range .Manifests }}
- `manifests/{{ .Name }}` (from `{{ .Source }}`)
{{- end }}
{{- end }}
{{- end }}
