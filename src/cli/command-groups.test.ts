import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { COMMAND_GROUPS, registerCommandGroups } from './command-groups.js';

void describe('command groups', () => {
  void it('the help summary of each group is the description its module registers', async () => {
    for (const group of COMMAND_GROUPS) {
      const program = new Command('tollgate');
      (await group.register())(program);
      const registered = program.commands.find((c) => c.name() === group.name);
      assert.equal(registered?.description(), group.summary, group.name);
    }
  });

  void it('only the group the command line names is registered in full', async () => {
    for (const argv of [['keys', 'list'], ['help', 'keys'], ['--help']]) {
      const program = new Command('tollgate');
      await registerCommandGroups(program, argv);
      const keys = program.commands.find((c) => c.name() === 'keys')!;
      const full = argv.includes('keys');
      assert.equal(keys.commands.length > 0, full, argv.join(' '));
      assert.equal(program.commands.find((c) => c.name() === 'tenants')!.commands.length, 0, argv.join(' '));
    }
  });
});
