{{- /*
  One Argo CD Application per component. Data: .Component (Name, Namespace,
  Chart, Repository, Version, IsOCI, OCIHost, HasChart, HasManifests, Wave,
  Values, GitPath, ServerSideApply, DependsOn), .Repo (URL, Set, Revision,
  Path), .Chart, .Tool.
*/ -}}
{{- $c := .Component -}}
# {{ $c.Name }}: sync wave {{ $c.Wave }} of the {{ .Chart.Name }} bundle (eidos {{ .Tool.Version }}).
{{- if $c.DependsOn }}
# Needs: {{ join ", " $c.DependsOn }} (earlier waves).
{{- end }}
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{ $c.Name }}
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: {{ $c.Wave | toString | quote }}
  labels:
    app.kubernetes.io/managed-by: eidos
    app.kubernetes.io/part-of: {{ .Chart.Name }}
  finalizers:
  - resources-finalizer.argocd.argoproj.io
spec:
  project: default
{{- if and $c.HasChart $c.HasManifests }}
  sources:
  - {{ include "chart-source" $c | indent 4 | trim }}
  - {{ include "git-source" . | indent 4 | trim }}
{{- else if $c.HasChart }}
  source:
{{ include "chart-source" $c | indent 4 }}
{{- else }}
  source:
{{ include "git-source" . | indent 4 }}
{{- end }}
  destination:
    server: https://kubernetes.default.svc
    namespace: {{ $c.Namespace }}
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
    - CreateNamespace=true
{{- if $c.ServerSideApply }}
    - ServerSideApply=true
{{- end }}
    retry:
      limit: 5
      backoff:
        duration: 10s
        factor: 2
        maxDuration: 5m
