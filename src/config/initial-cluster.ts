// The initial-cluster setting: the primaries of a new cluster, as `name=url,name=url` text, or in
// YAML as a map (`n1: http://...`) or a list (`- n1=http://...` or `- n1: http://...`).

import { parseName, parseNodeUrl } from './addresses.js';
import { show } from './parsed.js';

export interface ClusterMember {
  readonly name: string;
  /** Normalized `scheme://host:port`. */
  readonly url: string;
}

export const INITIAL_CLUSTER_EXPECTED =
  'name=url pairs separated by commas, such as n1=http://10.0.0.1:7400,n2=http://10.0.0.2:7400 (in YAML also a map of name: url, or a list)';

/** One `name=url` as given, with where it stood for messages. */
export interface MemberInput {
  readonly name: string;
  readonly url: string;
  readonly label: string;
}

/** Splits the text form; empty text is an empty cluster. A piece without `=` becomes a problem. */
export function splitInitialCluster(text: string): (MemberInput | string)[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((piece) => splitPair(piece) ?? `expected name=url, got ${show(piece)}`);
}

export function splitPair(piece: string): MemberInput | undefined {
  const eq = piece.indexOf('=');
  if (eq < 0) return undefined;
  return { name: piece.slice(0, eq).trim(), url: piece.slice(eq + 1).trim(), label: show(piece) };
}

/**
 * Validates names and URLs and rejects duplicates; returns the members and every problem found,
 * in the order given. Strings among the inputs are problems found earlier, kept in place.
 */
export function checkMembers(inputs: readonly (MemberInput | string)[]): {
  members: ClusterMember[];
  problems: string[];
} {
  const members: ClusterMember[] = [];
  const problems: string[] = [];
  const byName = new Map<string, MemberInput>();
  const byUrl = new Map<string, MemberInput>();
  for (const input of inputs) {
    if (typeof input === 'string') {
      problems.push(input);
      continue;
    }
    const name = parseName(input.name);
    const url = parseNodeUrl(input.url);
    if (!name.ok) problems.push(`member ${input.label}: ${name.message}`);
    if (!url.ok) problems.push(`member ${input.label}: ${url.message}`);
    if (!name.ok || !url.ok) continue;
    const sameName = byName.get(name.value);
    const sameUrl = byUrl.get(url.value);
    if (sameName !== undefined) {
      problems.push(`duplicate name ${show(name.value)}: members ${sameName.label} and ${input.label}`);
    }
    if (sameUrl !== undefined) {
      problems.push(`duplicate URL ${url.value}: members ${sameUrl.label} and ${input.label}`);
    }
    if (sameName !== undefined || sameUrl !== undefined) continue;
    byName.set(name.value, input);
    byUrl.set(url.value, input);
    members.push({ name: name.value, url: url.value });
  }
  return { members, problems };
}
