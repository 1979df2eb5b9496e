{{/* The chart name, at most 63 characters. */}}
{{- define "support-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name: the release name, prefixed to the chart name unless it
already contains it.
*/}}
{{- define "support-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "support-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "support-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "support-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "support-operator.labels" -}}
helm.sh/chart: {{ include "support-operator.chart" . }}
{{ include "support-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: support-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "support-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "support-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "support-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The ClusterRoles the operator binds: fixed names, the operator's constants. */}}
{{- define "support-operator.ticketRoleNames" -}}
- support-operator:ticket-viewer
- support-operator:ticket-editor
- support-operator:workspace-admin
{{- end }}

{{/*
Kubernetes 1.29 or later: the CRDs' CEL rules need it. A version the API
server reports without numbers (a build from source) is let through.
*/}}
{{- define "support-operator.kubeVersion" -}}
{{- $major := .Capabilities.KubeVersion.Major | trimSuffix "+" }}
{{- $minor := .Capabilities.KubeVersion.Minor | trimSuffix "+" }}
{{- if and (regexMatch "^[0-9]+$" $major) (regexMatch "^[0-9]+$" $minor) (ne $major "0") }}
{{- if or (lt (atoi $major) 1) (and (eq (atoi $major) 1) (lt (atoi $minor) 29)) }}
{{- fail (printf "support-operator needs Kubernetes 1.29 or later (the CRDs' CEL rules); this is %s" .Capabilities.KubeVersion.Version) }}
{{- end }}
{{- end }}
{{- end }}
