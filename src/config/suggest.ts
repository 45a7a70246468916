// "Did you mean": the known setting closest to an unknown name.

import { SETTING_KEYS, type SettingKey } from './settings.js';

/** Names from the seed systems (Easegress, etcd) that people will carry over. */
const FAMILIAR_NAMES: Readonly<Record<string, SettingKey>> = {
  'cluster-role': 'role',
  'api-addr': 'listen',
  'listen-client-urls': 'listen',
  'listen-peer-urls': 'listen',
  'advertise-client-urls': 'advertise-url',
  'initial-advertise-peer-urls': 'advertise-url',
  'state-flag': 'initial-cluster-state',
  'primary-listen-peer-urls': 'join',
  'minimum-nodes-count': 'minimum-nodes',
};

export interface Suggestion {
  /** A setting key, or one of the extra names given. */
  readonly key: string;
  /** The name is the setting in another spelling (camelCase, snake_case, upper case). */
  readonly sameWords: boolean;
}

/** `clusterName`, `cluster_name`, `CLUSTER_NAME` → `cluster-name`. */
export function toKebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replaceAll('_', '-')
    .toLowerCase();
}

/**
 * The setting an unknown name most likely meant, if one is close enough. `extra` adds names that
 * are valid in the source at hand but are not settings (`config-file`, `help`).
 */
export function suggestSetting(name: string, extra: readonly string[] = []): Suggestion | undefined {
  const kebab = toKebab(name);
  const known: readonly string[] = [...SETTING_KEYS, ...extra];
  if (known.includes(kebab)) return { key: kebab, sameWords: true };
  const familiar = FAMILIAR_NAMES[kebab];
  if (familiar !== undefined) return { key: familiar, sameWords: false };
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const key of known) {
    const d = editDistance(kebab, key);
    if (d < bestDistance) {
      best = key;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(kebab.length / 3));
  return best !== undefined && bestDistance <= limit ? { key: best, sameWords: false } : undefined;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
