{{- /*
  The Flux Kustomization that applies a component's manifests from Git.
  Data: .Component (GitPath), .Repo (SourceName), .Namespace, .Chart, .Tool.
*/ -}}
{{- $c := .Component -}}
# Manifests of {{ $c.Name }} ({{ .Chart.Name }} bundle, eidos {{ .Tool.Version }}),
# applied from {{ $c.GitPath }} of the GitRepository {{ .Repo.SourceName }}.
# A Kustomization cannot depend on a HelmRelease: it retries until the CRDs
# its objects need exist.
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {{ $c.Name }}-manifests
  namespace: {{ .Namespace }}
  labels:
    app.kubernetes.io/managed-by: eidos
    app.kubernetes.io/part-of: {{ .Chart.Name }}
spec:
  interval: 30m
  retryInterval: 1m
  timeout: 5m
  prune: true
  wait: true
  path: {{ $c.GitPath | quote }}
  sourceRef:
    kind: GitRepository
    name: {{ .Repo.SourceName }}
    namespace: {{ .Repo.SourceNamespace }}
