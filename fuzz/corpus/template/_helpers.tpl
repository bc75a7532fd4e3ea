{{- /* Named templates shared by the helm templates. */ -}}
{{- define "criteria-suffix" -}}
{{- if .Recipe.Criteria }} for {{ range $i, $c := .Recipe.Criteria }}{{ if $i }}, {{ end }}{{ $c.Name }} {{ $c.Value }}{{ end }}{{ end -}}
{{- end -}}
