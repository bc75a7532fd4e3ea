{{- /* Named templates shared by the argocd templates. */ -}}

{{- /* the Helm chart source of a component (dot: the component) */ -}}
{{- define "chart-source" -}}
repoURL: {{ if .IsOCI }}{{ .OCIHost | quote }}{{ else }}{{ .Repository | quote }}{{ end }}
chart: {{ .Chart | quote }}
targetRevision: {{ .Version | quote }}
helm:
  releaseName: {{ .Name }}
{{- if .Values }}
  valuesObject:
{{ toYaml .Values | indent 4 }}
{{- end }}
{{- end -}}

{{- /* the Git source of a component's manifests (dot: {Component, Repo}) */ -}}
{{- define "git-source" -}}
repoURL: {{ .Repo.URL | quote }}
targetRevision: {{ .Repo.Revision | quote }}
path: {{ .Component.GitPath | quote }}
{{- end -}}
