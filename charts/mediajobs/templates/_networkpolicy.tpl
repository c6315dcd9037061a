{{/* Worker pods (the operator's labels) in .namespace: nothing comes in; out goes DNS,
the bundled Redis and public addresses only, so an input.url cannot reach the cluster,
its nodes or a cloud's metadata service even if the worker's own URL checks were wrong. */}}
{{- define "mediajobs.workerNetworkPolicy" -}}
{{- $v := .root.Values.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: mediajobs-workers
  namespace: {{ .namespace }}
  labels: {{- include "mediajobs.labels" .root | nindent 4 }}
spec:
  podSelector:
    matchLabels: {app.kubernetes.io/managed-by: mediajobs}
    matchExpressions:
      - {key: mediajobs.dev/uid, operator: Exists}
  policyTypes: [Ingress, Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {{ toJson $v.dns.namespaceSelector }}}
          podSelector: {matchLabels: {{ toJson $v.dns.podSelector }}}
      ports:
        - {protocol: UDP, port: 53}
        - {protocol: TCP, port: 53}
    {{- if .root.Values.redis.bundled }}
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: {{ .root.Release.Namespace }}}}
          podSelector:
            matchLabels: {{- include "mediajobs.selector" .root | nindent 14 }}
              app.kubernetes.io/component: redis
      ports:
        - {protocol: TCP, port: 6379}
    {{- end }}
    - to:
        - ipBlock:
            cidr: 0.0.0.0/0
            except: {{- toYaml (concat $v.blockedCIDRs (without $v.clusterCIDRs "")) | nindent 14 }}
        - ipBlock:
            cidr: ::/0
            except: {{- toYaml $v.blockedCIDRsV6 | nindent 14 }}
    {{- with $v.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
