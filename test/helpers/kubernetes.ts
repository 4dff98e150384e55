/**
 * Reads the manifests of deploy/kubernetes/ and answers what the tests ask of them: the pod's
 * environment as the kubelet builds it, a port by name or number, a label selector's match.
 * Plain objects from the `yaml` package; no cluster, no Kubernetes client.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

// Loose shapes: only the fields the tests read. A missing field reads as undefined and fails there.
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Spec;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** The spec fields read from a Deployment, Service, PodDisruptionBudget or HorizontalPodAutoscaler. */
export interface Spec {
  replicas?: number;
  /** A Service's selector is a plain label map; the others' have matchLabels. */
  selector?: { matchLabels?: Record<string, string>; [label: string]: string | Record<string, string> | undefined };
  template?: {
    metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: {
      terminationGracePeriodSeconds?: number;
      securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; fsGroup?: number };
      containers: Container[];
      volumes?: { name: string; configMap?: { name: string }; emptyDir?: { sizeLimit?: string; medium?: string } }[];
    };
  };
  ports?: { name?: string; port: number; targetPort?: string | number }[];
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  scaleTargetRef?: { apiVersion: string; kind: string; name: string };
  minReplicas?: number;
  maxReplicas?: number;
  metrics?: { type: string; resource?: { name: string } }[];
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; runAsUser?: number; runAsNonRoot?: boolean };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

/** Every document of every *.yaml directly in `dir` (as `kubectl apply -f dir` reads them). */
export function loadManifests(dir: string): Manifest[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => {
        if (d.errors.length) throw new Error(`${f}: ${d.errors[0]!.message}`);
        return d.toJS() as Manifest;
      }),
    )
    .filter((m) => m !== null);
}

export function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/**
 * The container's environment as the kubelet builds it: the image's ENV, overridden by the
 * container's env, secretKeyRef resolved from the Secrets given (stringData or base64 data).
 * A reference to a missing Secret or key throws.
 */
export function podEnv(imageEnv: Record<string, string>, container: Container, secrets: Manifest[]): Record<string, string> {
  const env = { ...imageEnv };
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const secret = secrets.find((s) => s.kind === 'Secret' && s.metadata.name === ref.name);
      if (!secret) throw new Error(`env ${e.name}: no Secret ${ref.name}`);
      const value = secret.stringData?.[ref.key] ?? (secret.data?.[ref.key] !== undefined ? Buffer.from(secret.data[ref.key]!, 'base64').toString() : undefined);
      if (value === undefined) throw new Error(`env ${e.name}: Secret ${ref.name} has no key ${ref.key}`);
      env[e.name] = value;
    } else if (e.value !== undefined) {
      env[e.name] = e.value;
    } else {
      throw new Error(`env ${e.name}: neither value nor a secretKeyRef`);
    }
  }
  return env;
}

/** A port given by name or number (probes, Service targetPort), resolved against the container's ports. */
export function containerPort(container: Container, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return container.ports?.some((p) => p.containerPort === port) ? port : undefined;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** True when every label of `selector` is on `labels` with the same value (and there is at least one). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/** Kubernetes quantities as numbers: "500m" → 0.5, "2" → 2, "64Mi" → 67108864, "1G" → 1e9. */
export function quantity(q: string | number | undefined): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q ?? '');
  if (!m) return NaN;
  const unit = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}
