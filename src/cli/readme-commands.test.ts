/**
 * The README's commands work as pasted: every `npm run X -- …` line of its shell blocks names a
 * script that answers `--help` with exit 0, and every flag the README gives it is in that help.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const readme = readFileSync('README.md', 'utf8');
const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;

/** `npm run` commands of the README's sh blocks, continuation lines joined, comments dropped. */
function readmeCommands(): { script: string; flags: string[]; line: string }[] {
  const out: { script: string; flags: string[]; line: string }[] = [];
  for (const [, block] of readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    const lines = block.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.replace(/\s#.*$/, '').trim());
    for (const line of lines) {
      const m = /^npm run (\S+)(.*)$/.exec(line);
      if (!m) continue;
      const flags = [...m[2].matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((f) => f[1]);
      out.push({ script: m[1], flags, line });
    }
  }
  return out;
}

describe('the README\'s commands', () => {
  const commands = readmeCommands();
  it('are found', () => {
    expect(commands.length).toBeGreaterThan(5);
  });
  for (const script of [...new Set(commands.map((c) => c.script))]) {
    it(`npm run ${script}: a script that answers --help with exit 0 and knows the README's flags`, () => {
      expect(scripts[script], `package.json has no script '${script}'`).toBeDefined();
      const r = spawnSync('npm', ['run', '-s', script, '--', '--help'], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${script} --help: ${r.stderr}`).toBe(0);
      const help = r.stdout;
      expect(help).toMatch(/usage/i);
      expect(help).not.toMatch(/Hi, looks like you are running TensorFlow\.js/);
      for (const c of commands.filter((x) => x.script === script)) {
        // A `|` would be a shell pipe: `--strategy fixed|bdl|td` runs `bdl` as a command.
        expect(c.line, 'pasteable as is').not.toContain('|');
        for (const f of c.flags) expect(help, `'${c.line}' uses ${f}`).toContain(f);
      }
    }, 150_000);
  }
});
