import { readFileSync } from 'node:fs';
import { basename, dirname, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AdminServer } from '../../src/admin/admin-server.js';
import { registerAdminRoutes } from '../../src/gateway/admin-routes.js';
import { GATEWAY_USAGE } from '../../src/cli/gateway.js';
import { parseGatewayConfig, type GatewayConfig } from '../../src/config/gateway-config.js';
import type { GatewayRuntime } from '../../src/gateway/contracts.js';
import { parseProducts } from '../../src/products/products-config.js';
import { parseRuleSet } from '../../src/rules/rule-set.js';
import type { ShadowRuntime } from '../../src/shadow/shadow-step.js';
import { ruleContextOf } from '../../src/store/rule-source.js';
import { dockerfile } from '../helpers/dockerfile.js';
import { containerPort, loadManifests, only, podEnv, quantity, selects, type Manifest } from '../helpers/kubernetes.js';

// No cluster runs on the build machines: the manifests are checked against the image (the
// Dockerfile) and the config they carry, loaded through the real config loader.
const DIR = 'deploy/kubernetes';
const manifests = loadManifests(DIR);
const image = dockerfile('Dockerfile');
const deployment = only(manifests, 'Deployment');
const pod = deployment.spec!.template!;
const container = pod.spec.containers[0]!;
const configMap = only(manifests, 'ConfigMap');
const secret = only(manifests, 'Secret');
const env = podEnv(image.env, container, [secret]);
const args = container.args ?? image.execForm('CMD');
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const configFile = flag('--config')!;
const load = (text: string, e: Record<string, string> = env): GatewayConfig => parseGatewayConfig(text, configFile, e);
const config = load(configMap.data!['gateway.yaml']!);
const mount = (name: string) => container.volumeMounts?.find((m) => m.name === name);
const volume = (name: string) => pod.spec.volumes?.find((v) => v.name === name);
const mountOf = (path: string) => container.volumeMounts?.find((m) => path === m.mountPath || path.startsWith(m.mountPath + '/'));
const configMount = container.volumeMounts!.find((m) => volume(m.name)?.configMap)!;
const stateMount = container.volumeMounts!.find((m) => volume(m.name)?.emptyDir && m.mountPath === config.stateDir);

/** Every `METHOD /path` the gateway's admin listener serves, from the code that registers them. */
function adminRoutes(): string[] {
  const routes: string[] = [];
  const recorder = {
    route(method: string, path: string) {
      routes.push(`${method} ${path}`);
      return recorder;
    },
  };
  registerAdminRoutes(recorder as unknown as AdminServer, {} as GatewayRuntime, () => undefined, {} as ShadowRuntime);
  return routes;
}

/** The seconds a preStop hook holds SIGTERM back: `sleep N` as a command or the sleep action. */
function preStopSeconds(): number {
  const hook = container.lifecycle?.preStop;
  if (hook?.sleep) return hook.sleep.seconds;
  const cmd = hook?.exec?.command ?? [];
  return cmd[0] === 'sleep' && cmd.length === 2 ? Number(cmd[1]) : 0;
}

describe('Kubernetes manifests', () => {
  it('hold one of each object kubectl apply -f deploy/kubernetes/ needs, each with the API version it is served at', () => {
    const kinds = manifests.map((m) => `${m.apiVersion} ${m.kind}`).sort();
    expect([...new Set(kinds)]).toEqual([
      'apps/v1 Deployment',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'policy/v1 PodDisruptionBudget',
      'v1 ConfigMap',
      'v1 Secret',
      'v1 Service',
    ]);
    expect(pod.spec.containers).toHaveLength(1);
  });

  it("run the image's entrypoint with the gateway command, its config path and a drain", () => {
    expect(container.command).toBeUndefined(); // keeps ENTRYPOINT: node with its V8 flags
    const cmd = image.execForm('CMD');
    expect(args[0]).toBe(cmd[0]);
    expect(configFile).toBe(cmd[cmd.indexOf('--config') + 1]);
    expect(GATEWAY_USAGE).toContain('--drain SECONDS');
    expect(Number(flag('--drain'))).toBeGreaterThan(0);
  });

  it("expose the listen addresses of the ConfigMap's gateway.yaml, loaded with the pod's environment", () => {
    const ports = Object.fromEntries(container.ports!.map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ http: config.listen.port, admin: config.admin.listen.port });
    // The kubelet's probes, the Services and Prometheus reach the pod's address, not its loopback.
    for (const host of [config.listen.host, config.admin.listen.host]) expect(['0.0.0.0', '::']).toContain(host);
    expect(Number(pod.metadata.annotations?.['prometheus.io/port'])).toBe(config.admin.listen.port);
    expect(adminRoutes()).toContain(`GET ${pod.metadata.annotations?.['prometheus.io/path']}`);
    expect(image.instr('EXPOSE')[0]!.split(' ').slice(1).map(Number).sort()).toEqual(Object.values(ports).sort());
  });

  it('probe readiness on /readyz and liveness on /healthz of the admin listener', () => {
    const routes = adminRoutes();
    const probes = { '/readyz': container.readinessProbe?.httpGet, '/healthz': container.livenessProbe?.httpGet };
    for (const [path, probe] of Object.entries(probes)) {
      expect(probe?.path).toBe(path);
      expect(routes).toContain(`GET ${path}`);
      expect(containerPort(container, probe?.port)).toBe(config.admin.listen.port);
    }
  });

  it("mount the ConfigMap read-only at the image's config directory, with every file the config reads", () => {
    const workdir = image.instr('WORKDIR').at(-1)!.split(' ')[1]!;
    expect(configMount.mountPath).toBe(dirname(configFile));
    expect(configMount.mountPath).toBe(posix.join(workdir, 'config'));
    expect(configMount.readOnly).toBe(true);
    expect(volume(configMount.name)?.configMap?.name).toBe(configMap.metadata.name);
    const files = [configFile, config.rules.file, ...config.backends.flatMap((b) => (b.inprocess ? [b.inprocess.products] : []))];
    for (const f of files) {
      expect(dirname(f), f).toBe(configMount.mountPath);
      expect(Object.keys(configMap.data!), f).toContain(basename(f));
    }
    expect(() => parseRuleSet(configMap.data![basename(config.rules.file)]!, config.rules.file, ruleContextOf(config))).not.toThrow();
    for (const b of config.backends) if (b.inprocess) expect(() => parseProducts(configMap.data![basename(b.inprocess!.products)]!, b.inprocess!.products)).not.toThrow();
  });

  it("keep generated state on an emptyDir at state_dir, the image's state directory, large enough for the samples", () => {
    expect(config.stateDir).toBe(image.env.SWITCHYARD_STATE_DIR);
    expect(stateMount, `no emptyDir mounted at ${config.stateDir}`).toBeDefined();
    expect(stateMount!.readOnly).not.toBe(true);
    // The JSONL samples rotate at max_bytes and keep one previous file.
    expect(quantity(volume(stateMount!.name)!.emptyDir!.sizeLimit)).toBeGreaterThan(2 * config.shadow.samples.maxBytes);
  });

  it("run as the image's user, without privileges, on a read-only root filesystem where every write has a mount", () => {
    const user = image.instr('USER').at(-1)!.split(' ')[1]!;
    const uid = /^\d+$/.test(user) ? Number(user) : { node: 1000 }[user]; // uid of node in the official Node images
    expect(uid).toBeDefined();
    const sc = { ...pod.spec.securityContext, ...container.securityContext };
    expect(sc.runAsNonRoot).toBe(true);
    expect(sc.runAsUser).toBe(uid);
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    for (const written of [config.stateDir, config.shadow.samples.file]) {
      const m = mountOf(written);
      expect(m, written).toBeDefined();
      expect(m!.readOnly, written).not.toBe(true);
    }
  });

  it('give the drain its time: terminationGracePeriodSeconds covers preStop, --drain and closing', () => {
    const drain = Number(flag('--drain'));
    const preStop = preStopSeconds();
    expect(preStop).toBeGreaterThan(0);
    // After the drain the gateway closes shadow copies, pools and Redis: 5 s of margin.
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + drain + 5);
  });

  it('pass the tokens from the Secret to gateway.yaml through ${VAR}, and ship none', () => {
    const refs = (container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef);
    expect(refs.map((e) => e.name).sort()).toEqual(['SWITCHYARD_ADMIN_TOKEN', 'SWITCHYARD_OVERRIDE_TOKEN']);
    for (const e of refs) {
      expect(e.valueFrom!.secretKeyRef!.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData ?? secret.data ?? {})).toContain(e.valueFrom!.secretKeyRef!.key);
      expect(secret.stringData?.[e.valueFrom!.secretKeyRef!.key]).toBe('');
    }
    // With tokens filled in, they arrive where the gateway reads them.
    const filled: Manifest = { ...secret, stringData: { 'admin-token': 'adm-1', 'override-token': 'ovr-2' } };
    const c = load(configMap.data!['gateway.yaml']!, podEnv(image.env, container, [filled]));
    expect([c.admin.token, c.override.token]).toEqual(['adm-1', 'ovr-2']);
  });

  it("route each Service to the gateway's ports, selecting its pods", () => {
    const services = manifests.filter((m) => m.kind === 'Service');
    const targets: Record<string, number> = { switchyard: config.listen.port, 'switchyard-admin': config.admin.listen.port };
    expect(services.map((s) => s.metadata.name).sort()).toEqual(Object.keys(targets).sort());
    for (const s of services) {
      expect(selects(s.spec!.selector as Record<string, string>, pod.metadata.labels), s.metadata.name).toBe(true);
      for (const p of s.spec!.ports!) expect(containerPort(container, p.targetPort), `${s.metadata.name}:${p.port}`).toBe(targets[s.metadata.name]);
    }
  });

  it('select their own pods from the Deployment, the PodDisruptionBudget and the autoscaler', () => {
    expect(selects(deployment.spec!.selector!.matchLabels, pod.metadata.labels)).toBe(true);
    const pdb = only(manifests, 'PodDisruptionBudget');
    expect(selects(pdb.spec!.selector!.matchLabels, pod.metadata.labels)).toBe(true);
    const hpa = only(manifests, 'HorizontalPodAutoscaler');
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: deployment.apiVersion, kind: 'Deployment', name: deployment.metadata.name });
    // The budget leaves a pod serving at the autoscaler's minimum.
    const unavailable = pdb.spec!.maxUnavailable ?? hpa.spec!.minReplicas! - Number(pdb.spec!.minAvailable);
    expect(hpa.spec!.minReplicas! - Number(unavailable)).toBeGreaterThanOrEqual(1);
    expect(hpa.spec!.maxReplicas).toBeGreaterThan(hpa.spec!.minReplicas!);
  });

  it('request and limit CPU and memory, which the CPU autoscaler needs', () => {
    const r = container.resources!;
    for (const res of ['cpu', 'memory']) {
      expect(quantity(r.requests?.[res]), res).toBeGreaterThan(0);
      expect(quantity(r.limits?.[res]), res).toBeGreaterThanOrEqual(quantity(r.requests?.[res]));
    }
    const hpa = only(manifests, 'HorizontalPodAutoscaler');
    for (const m of hpa.spec!.metrics!) if (m.type === 'Resource') expect(r.requests?.[m.resource!.name]).toBeDefined();
  });

  it('fit the Redis Sentinel example to the same Deployment and ConfigMap', () => {
    const file = `${DIR}/redis-sentinel/gateway.yaml`;
    const c = load(readFileSync(file, 'utf8'));
    expect(c.rules.redis?.sentinels?.length).toBeGreaterThanOrEqual(1);
    expect(c.rules.redis?.sentinelName).toBeTruthy();
    expect([c.listen, c.admin.listen]).toEqual([config.listen, config.admin.listen]);
    expect(c.rules.redis!.snapshot.startsWith(stateMount!.mountPath + '/')).toBe(true);
    for (const f of [c.rules.file, ...c.backends.flatMap((b) => (b.inprocess ? [b.inprocess.products] : []))]) {
      expect(Object.keys(configMap.data!), f).toContain(basename(f));
    }
    expect(c.backends.map((b) => b.name)).toEqual(config.backends.map((b) => b.name));
  });
});
