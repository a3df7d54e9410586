{{/*
Names and labels shared by every template.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "dockyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The resource name prefix: fullnameOverride, else the release name when it already
contains the chart name (`dockyard`), else `<release>-<chart>`. Truncated to 63
characters because some name fields are DNS labels.
*/}}
{{- define "dockyard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "dockyard.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "dockyard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the controller pods; never change them (Deployment selectors are immutable). */}}
{{- define "dockyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dockyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "dockyard.labels" -}}
helm.sh/chart: {{ include "dockyard.chart" . }}
{{ include "dockyard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: dockyard
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "dockyard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dockyard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "dockyard.leaseName" -}}
{{- default (printf "%s-controller" (include "dockyard.fullname" .)) .Values.leaderElection.leaseName -}}
{{- end -}}

{{/* "true" or "false": leader election is on when forced, or automatically above one replica or one shard. */}}
{{- define "dockyard.leaderElect" -}}
{{- $mode := .Values.leaderElection.enabled -}}
{{- if kindIs "bool" $mode -}}
{{- ternary "true" "false" $mode -}}
{{- else -}}
{{- ternary "true" "false" (or (gt (int .Values.replicaCount) 1) (gt (int .Values.shards) 1)) -}}
{{- end -}}
{{- end -}}

{{- define "dockyard.metricsServiceName" -}}
{{- printf "%s-metrics" (include "dockyard.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dockyard.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The label matchers every alert uses, so that two Dockyard installations (or other
controller-runtime operators exporting the same metric names) are never mixed up:
the ServiceMonitor's scrape sets `namespace` and `service` on every series.
*/}}
{{- define "dockyard.alertSelector" -}}
namespace="{{ .Release.Namespace }}",service="{{ include "dockyard.metricsServiceName" . }}"
{{- end -}}

{{/*
Names on the agent endpoint's certificate, as a JSON array: the advertised host first
(what agents verify), then agent.serverNames, then the agent Service's cluster DNS names.
*/}}
{{- define "dockyard.agentServerNames" -}}
{{- $advertised := regexReplaceAll "^\\[?([^\\]]*?)\\]?:[0-9]+$" .Values.agent.advertiseAddress "${1}" -}}
{{- $service := printf "%s-agent" (include "dockyard.fullname" .) -}}
{{- $names := list $advertised -}}
{{- range .Values.agent.serverNames }}{{- $names = append $names . -}}{{- end -}}
{{- $names = append $names (printf "%s.%s.svc" $service .Release.Namespace) -}}
{{- $names = append $names (printf "%s.%s.svc.cluster.local" $service .Release.Namespace) -}}
{{- $names | uniq | toJson -}}
{{- end }}
