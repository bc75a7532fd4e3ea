{{- /*
  The root Application: syncs the applications/ directory of the Git
  repository the bundle is pushed to. Data: .Repo, .Chart, .Tool.
*/ -}}
# Root application of the {{ .Chart.Name }} bundle (eidos {{ .Tool.Version }}).
{{- if not .Repo.Set }}
# The Git repository was not given (eidos bundle --repo URL): replace
# {{ .Repo.Placeholder }} below, and in applications/*.yaml, with the URL of
# the repository this bundle is pushed to before applying. See README.md.
{{- end }}
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{ .Chart.Name }}
  namespace: argocd
  labels:
    app.kubernetes.io/managed-by: eidos
  finalizers:
  - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: {{ .Repo.URL | quote }}
    targetRevision: {{ .Repo.Revision | quote }}
    path: {{ .Repo.AppsPath | quote }}
    directory:
      recurse: false
      include: '*.yaml'
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
