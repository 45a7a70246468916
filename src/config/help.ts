// The `conclave server --help` text, generated from the settings table.

import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, SETTINGS } from './settings.js';
import { DURATION_EXPECTED, SIZE_EXPECTED } from './units.js';

const WIDTH = 100;
const INDENT = '      ';

/** Every setting with its flag, environment variable, default and description. */
export function configHelp(): string {
  const out: string[] = [
    'Usage: conclave server [flags]',
    '',
    ...wrap(
      'Starts a Conclave node. Every setting is a flag, a CONCLAVE_* environment variable, or a key in the YAML file named by --config-file (the flag name without --). Flags beat environment variables, which beat the file, which beats the defaults. One file can serve every node; start each with its own --name.',
      '',
    ),
    '',
    'Flags:',
    entry(`${CONFIG_FILE_FLAG} <path>`, CONFIG_FILE_ENV, 'YAML file of settings (kebab-case keys).', 'none'),
  ];
  for (const s of SETTINGS) {
    const repeat = s.repeatable ? ' (repeatable)' : '';
    out.push(entry(`${s.flag} <${s.placeholder}>${repeat}`, s.env, s.description, s.defaultText));
  }
  out.push(`  -h, --help\n${INDENT}Print this help.`);
  out.push('', ...wrap(`Durations: ${DURATION_EXPECTED}.`, ''), ...wrap(`Sizes: ${SIZE_EXPECTED}.`, ''));
  return out.join('\n');
}

function entry(flag: string, env: string, description: string, defaultText: string): string {
  const head = `  ${flag.padEnd(38)} env ${env}`;
  return [head, ...wrap(description.replaceAll('`', ''), INDENT), `${INDENT}default: ${defaultText}`].join(
    '\n',
  );
}

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}
