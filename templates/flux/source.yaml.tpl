{{- /*
  The chart source of one component: an OCIRepository for oci:// charts,
  otherwise a HelmRepository. Data: .Component, .Namespace, .Chart, .Tool.
*/ -}}
{{- $c := .Component -}}
# Chart source of {{ $c.Name }} ({{ .Chart.Name }} bundle, eidos {{ .Tool.Version }}).
{{- if $c.IsOCI }}
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {{ $c.Name }}
  namespace: {{ .Namespace }}
spec:
  interval: 1h
  url: {{ $c.OCIURL | quote }}
  ref:
    tag: {{ $c.Version | quote }}
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
{{- else }}
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: {{ $c.Name }}
  namespace: {{ .Namespace }}
spec:
  interval: 1h
  url: {{ $c.Repository | quote }}
{{- end }}
