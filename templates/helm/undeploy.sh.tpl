{{- /*
  undeploy.sh of the helm bundle: templates/shell/undeploy.sh.tpl.
*/ -}}
{{ include "../shell/undeploy.sh.tpl" . }}
