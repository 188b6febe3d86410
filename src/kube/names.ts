// Kubernetes name rules, with the wording kubectl users know.
export const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// A label key: optional DNS subdomain prefix and a name of at most 63 characters.
export const labelKey =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The one rule of a namespace name, as the API server has it: a DNS-1123 label of at most 63 characters. */
export function isNamespaceName(name: string): boolean {
  return name.length <= 63 && dns1123Label.test(name);
}

/** The one wording of that rule, after the field (and the value, where a message may show it). */
export const notANamespaceName = 'not a valid namespace name (lowercase letters, digits and -, at most 63)';
