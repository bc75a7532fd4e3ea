{{- /*
  The HelmRelease of one component. Data: .Component (ReleaseDependsOn:
  the dependencies that have a HelmRelease), .Namespace, .Chart, .Tool.
*/ -}}
{{- $c := .Component -}}
# {{ $c.Name }}: position {{ $c.Position }} in the deployment order of the {{ .Chart.Name }} bundle (eidos {{ .Tool.Version }}).
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {{ $c.Name }}
  namespace: {{ .Namespace }}
  labels:
    app.kubernetes.io/managed-by: eidos
    app.kubernetes.io/part-of: {{ .Chart.Name }}
spec:
  interval: 30m
  timeout: 15m
  releaseName: {{ $c.Name }}
  targetNamespace: {{ $c.Namespace }}
  storageNamespace: {{ $c.Namespace }}
{{- if $c.ReleaseDependsOn }}
  dependsOn:
{{- range $c.ReleaseDependsOn }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- if $c.IsOCI }}
  chartRef:
    kind: OCIRepository
    name: {{ $c.Name }}
{{- else }}
  chart:
    spec:
      chart: {{ $c.Chart | quote }}
      version: {{ $c.Version | quote }}
      sourceRef:
        kind: HelmRepository
        name: {{ $c.Name }}
      interval: 1h
{{- end }}
  install:
    createNamespace: true
    crds: CreateReplace
    remediation:
      retries: 3
  upgrade:
    crds: CreateReplace
    remediation:
      retries: 3
{{- if $c.Values }}
  values:
{{ toYaml $c.Values | indent 4 }}
{{- end }}
