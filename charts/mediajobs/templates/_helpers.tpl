{{/* The release's name for its objects (the chart name when the release is called so). */}}
{{- define "mediajobs.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mediajobs.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "mediajobs.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* An image reference from images.<name>: repository:tag, the tag defaulting to appVersion. */}}
{{- define "mediajobs.image" -}}
{{- $image := index .root.Values.images .name -}}
{{- printf "%s:%s" $image.repository (default .root.Chart.AppVersion $image.tag) -}}
{{- end -}}

{{- define "mediajobs.redisUrl" -}}
{{- if .Values.redis.bundled -}}
{{- printf "redis://%s-redis.%s.svc:6379/0" (include "mediajobs.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- .Values.redis.externalUrl -}}
{{- end -}}
{{- end -}}

{{/* Each listed namespace with namespaceDefaults under it, as a YAML list. */}}
{{- define "mediajobs.namespaces" -}}
{{- $out := list -}}
{{- range .Values.namespaces -}}
{{- $out = append $out (mergeOverwrite (deepCopy $.Values.namespaceDefaults) (deepCopy .)) -}}
{{- end -}}
{{- toYaml (dict "items" $out) -}}
{{- end -}}

{{/* The restricted pod security context every pod of the chart runs with. */}}
{{- define "mediajobs.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "mediajobs.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* The operator's namespaced rules: what kube/ and controller/ call, nothing more. */}}
{{- define "mediajobs.operatorRules" -}}
# MediaJobs: a MediaJobSchedule's runs are created (and replaced, pruned) by the operator;
# get reads back a run whose create met an existing name.
- apiGroups: [mediajobs.dev]
  resources: [mediajobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [mediajobs.dev]
  resources: [mediajobs/status]
  verbs: [patch]
# HitlSessions: opened (or replaced when finished) for jobs that need a login; their
# status is the operator's.
- apiGroups: [mediajobs.dev]
  resources: [hitlsessions]
  verbs: [get, list, watch, create, delete]
- apiGroups: [mediajobs.dev]
  resources: [hitlsessions/status]
  verbs: [patch]
- apiGroups: [mediajobs.dev]
  resources: [mediajobschedules]
  verbs: [list, watch]
- apiGroups: [mediajobs.dev]
  resources: [mediajobschedules/status]
  verbs: [patch]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [pods, resourcequotas]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}

{{/* The media library as a pod volume source, from mediaVolume. */}}
{{- define "mediajobs.mediaSource" -}}
{{- if eq .Values.mediaVolume.type "hostPath" -}}
hostPath: {{- toYaml .Values.mediaVolume.hostPath | nindent 2 }}
{{- else -}}
persistentVolumeClaim:
  claimName: {{ .Values.mediaVolume.claimName }}
{{- end -}}
{{- end -}}
