{{- /* The GitRepository holding the bundle (only with --repo). */ -}}
# Git repository of the {{ .Chart.Name }} bundle (eidos {{ .Tool.Version }}).
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: {{ .Repo.SourceName }}
  namespace: {{ .Namespace }}
spec:
  interval: 5m
  url: {{ .Repo.URL | quote }}
  ref:
    branch: {{ .Repo.Revision | quote }}
