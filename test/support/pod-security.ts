// The Pod Security Standards' checks (https://kubernetes.io/docs/concepts/security/pod-security-standards/, the
// policies as of Kubernetes 1.34), written out as a test helper: unit tests hold the rendered Pods against these
// rules without an API server; the integration suite (test/integration/pod-security.test.ts) and the kind job
// let the real admission controller judge the same Pods. Each violation names the field, as the admission
// controller's message does.
//
// Not modelled: the Windows-only fields (hostProcess is), and version gates older than 1.25 (the policies here are
// those of the newest version; a Pod passing them passes the older ones too, which are subsets).

export type PodSecurityLevel = 'baseline' | 'restricted';

type Obj = Record<string, any>;

const baselineCapabilities = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const safeSysctls = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const seLinuxTypes = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const restrictedVolumeSources = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

interface NamedContainer {
  path: string;
  container: Obj;
}

function containersOf(spec: Obj): NamedContainer[] {
  const out: NamedContainer[] = [];
  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    (spec[field] ?? []).forEach((container: Obj, i: number) => out.push({ path: `spec.${field}[${i}]`, container }));
  }
  return out;
}

function checkBaseline(spec: Obj, annotations: Record<string, string>, v: string[]): void {
  const pod = spec.securityContext ?? {};
  const containers = containersOf(spec);
  // HostProcess
  if (pod.windowsOptions?.hostProcess === true)
    v.push('spec.securityContext.windowsOptions.hostProcess must not be true');
  // Host namespaces
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'])
    if (spec[field] === true) v.push(`spec.${field} must not be true`);
  // HostPath volumes
  (spec.volumes ?? []).forEach((volume: Obj, i: number) => {
    if (volume.hostPath !== undefined) v.push(`spec.volumes[${i}] (${volume.name}): hostPath volumes are not allowed`);
  });
  // Sysctls
  for (const sysctl of pod.sysctls ?? []) {
    if (!safeSysctls.has(sysctl.name)) v.push(`spec.securityContext.sysctls: ${sysctl.name} is not a safe sysctl`);
  }
  // AppArmor (annotations before 1.30, fields since)
  for (const [key, value] of Object.entries(annotations)) {
    if (
      key.startsWith('container.apparmor.security.beta.kubernetes.io/') &&
      value !== 'runtime/default' &&
      !value.startsWith('localhost/')
    ) {
      v.push(`metadata.annotations[${key}]: AppArmor profile ${value} is not allowed`);
    }
  }
  const appArmor = (path: string, sc: Obj | undefined) => {
    const type = sc?.appArmorProfile?.type;
    if (type !== undefined && type !== 'RuntimeDefault' && type !== 'Localhost')
      v.push(`${path}.appArmorProfile.type must not be ${type}`);
  };
  const seLinux = (path: string, sc: Obj | undefined) => {
    const options = sc?.seLinuxOptions;
    if (!options) return;
    if (!seLinuxTypes.has(options.type ?? '')) v.push(`${path}.seLinuxOptions.type ${options.type} is not allowed`);
    if (options.user) v.push(`${path}.seLinuxOptions.user must not be set`);
    if (options.role) v.push(`${path}.seLinuxOptions.role must not be set`);
  };
  const seccompNotUnconfined = (path: string, sc: Obj | undefined) => {
    if (sc?.seccompProfile?.type === 'Unconfined') v.push(`${path}.seccompProfile.type must not be Unconfined`);
  };
  appArmor('spec.securityContext', pod);
  seLinux('spec.securityContext', pod);
  seccompNotUnconfined('spec.securityContext', pod);
  for (const { path, container } of containers) {
    const sc = container.securityContext;
    const at = `${path}.securityContext`;
    if (sc?.windowsOptions?.hostProcess === true) v.push(`${at}.windowsOptions.hostProcess must not be true`);
    if (sc?.privileged === true) v.push(`${at}.privileged must not be true`);
    for (const cap of sc?.capabilities?.add ?? []) {
      if (!baselineCapabilities.has(cap)) v.push(`${at}.capabilities.add: ${cap} is not allowed`);
    }
    for (const port of container.ports ?? []) {
      if (port.hostPort !== undefined && port.hostPort !== 0)
        v.push(`${path}.ports: hostPort ${port.hostPort} is not allowed`);
    }
    appArmor(at, sc);
    seLinux(at, sc);
    if (sc?.procMount !== undefined && sc.procMount !== 'Default') v.push(`${at}.procMount must be Default`);
    seccompNotUnconfined(at, sc);
  }
}

function checkRestricted(spec: Obj, v: string[]): void {
  const pod = spec.securityContext ?? {};
  const containers = containersOf(spec);
  // Volume types
  (spec.volumes ?? []).forEach((volume: Obj, i: number) => {
    const source = Object.keys(volume).find((key) => key !== 'name');
    if (source !== undefined && !restrictedVolumeSources.has(source))
      v.push(`spec.volumes[${i}] (${volume.name}): ${source} volumes are not allowed`);
  });
  // Running as non-root user
  if (pod.runAsUser === 0) v.push('spec.securityContext.runAsUser must not be 0');
  for (const { path, container } of containers) {
    const sc = container.securityContext ?? {};
    const at = `${path}.securityContext`;
    // Privilege escalation
    if (sc.allowPrivilegeEscalation !== false) v.push(`${at}.allowPrivilegeEscalation must be false`);
    // Running as non-root: the pod says so and no container says otherwise, or every container says so
    if (sc.runAsNonRoot === false) v.push(`${at}.runAsNonRoot must not be false`);
    else if (pod.runAsNonRoot !== true && sc.runAsNonRoot !== true)
      v.push(`${at}.runAsNonRoot must be true (or spec.securityContext.runAsNonRoot)`);
    if (sc.runAsUser === 0) v.push(`${at}.runAsUser must not be 0`);
    // Seccomp: RuntimeDefault or Localhost, set on the pod or on the container
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      v.push(
        `${at}.seccompProfile.type must be RuntimeDefault or Localhost (or spec.securityContext.seccompProfile.type)`,
      );
    }
    // Capabilities: drop ALL, add at most NET_BIND_SERVICE
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${at}.capabilities.drop must include ALL`);
    for (const cap of sc.capabilities?.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE') v.push(`${at}.capabilities.add: ${cap} is not allowed (only NET_BIND_SERVICE)`);
    }
  }
}

/**
 * The violations of a Pod template (or Pod) against a level of the Pod Security Standards; [] when it passes.
 * Restricted includes every baseline check.
 */
export function podSecurityViolations(template: { metadata?: Obj; spec: Obj }, level: PodSecurityLevel): string[] {
  const violations: string[] = [];
  checkBaseline(template.spec, template.metadata?.annotations ?? {}, violations);
  if (level === 'restricted') checkRestricted(template.spec, violations);
  return violations;
}

/** The Pod template of a workload object (Deployment, StatefulSet, …), or the Pod itself. */
export function podTemplateOf(object: Obj): { metadata?: Obj; spec: Obj } {
  if (object.kind === 'Pod') return object as { metadata?: Obj; spec: Obj };
  if (object.kind === 'CronJob') return object.spec.jobTemplate.spec.template;
  return object.spec.template;
}
