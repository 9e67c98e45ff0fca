{{- define "lines.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-included
  labels:
    {{- include "lines.labels" . | nindent 4 }}
data:
  first: "1"
  second: "2"
  third: "3"
{{- end }}
