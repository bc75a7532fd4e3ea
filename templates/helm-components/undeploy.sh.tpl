{{- /*
  undeploy.sh of the helm-components bundle: templates/shell/undeploy.sh.tpl.
*/ -}}
{{ include "../shell/undeploy.sh.tpl" . }}
