{{- $x := dict "a" 1 "b" (list 1 2 "three") -}}
{{- range $k, $v := $x }}{{ $k }}={{ $v | toJson }}{{ end }}
{{ printf "%s-%d-%v-%q" "s" 3 true "q" }} {{ add 1 2 | mul 3 }} {{ div 7 2 }} {{ mod 7 0 | default "x" }}
{{ .Values | toYaml | indent 4 }}{{ with .Release }}{{ .Name | upper | quote }}{{ else }}none{{ end }}
{{ if and (eq .Chart.Name "gpu-operator") (not (empty .Values)) }}yes{{ else if gt 1 2 }}no{{ end }}
{{ split "," "a,b,c" | join ";" }} {{ replace "a" "b" "banana" | trimSuffix "a" | trimPrefix "b" }}
{{/* a comment */}}{{ include "virtual.tpl" . }}{{ template "criteria" . }}
{{ define "criteria" }}{{ range $i, $c := .Recipe.Criteria }}{{ if $i }}, {{ end }}{{ $c.Name }}{{ end }}{{ end }}
{{ $n := 0 }}{{ range until 5 }}{{ $n = add $n . }}{{ end }}{{ $n }} {{ sha256 "x" | trunc 8 }} {{ coalesce nil "" "c" }}
{{ index .Values "gpu-operator" "driver" "version" }} {{ hasKey .Values "x" | ternary "y" "n" }} {{ keys .Values | sortAlpha }}
