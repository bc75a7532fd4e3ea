{{- /* kustomize entry point: every Flux object of the bundle. */ -}}
# Flux objects of the {{ .Chart.Name }} bundle (eidos {{ .Tool.Version }}).
# Component manifests are applied by the <component>-manifests Kustomizations.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
{{- range .Resources }}
- {{ . }}
{{- end }}
