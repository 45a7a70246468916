// A copy of the configuration that is safe to log.

import type { NodeConfig } from './types.js';

/** The configuration with the secret replaced by "[redacted]" (or left undefined). */
export function redactConfig(config: NodeConfig): Omit<NodeConfig, 'secret'> & { readonly secret?: string } {
  const { secret, ...rest } = config;
  return secret === undefined ? rest : { ...rest, secret: '[redacted]' };
}
