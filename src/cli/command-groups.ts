import type { Command } from 'commander';

/**
 * The command groups that work on the database (tenants, keys, usage, budgets). Their modules
 * pull in storage, tenancy and accounting, so `tollgate` loads one only when the command line
 * names it; the others are listed in `--help` by these summaries (checked against the real
 * descriptions by command-groups.test.ts).
 */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  register(): Promise<(program: Command) => void>;
}

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  {
    name: 'tenants',
    summary: 'create and list tenants (against the configured database)',
    register: async () => (await import('./tenants.js')).registerTenantCommands,
  },
  {
    name: 'keys',
    summary: 'manage virtual keys (against the configured database)',
    register: async () => (await import('./keys.js')).registerKeyCommands,
  },
  {
    name: 'usage',
    summary: 'usage from the ledger: requests, tokens and cost, grouped and bucketed',
    register: async () => (await import('./usage.js')).registerUsageCommand,
  },
  {
    name: 'budgets',
    summary: 'list and change budgets (against the configured database)',
    register: async () => (await import('./budgets.js')).registerBudgetCommands,
  },
];

/**
 * Registers every group on `program`: in full the one `argv` names (its first word that is not an
 * option, or the word after `help`), as a one-line entry for help the others.
 */
export async function registerCommandGroups(program: Command, argv: readonly string[]): Promise<void> {
  const words = argv.filter((arg) => !arg.startsWith('-'));
  const named = words[0] === 'help' ? words[1] : words[0];
  for (const group of COMMAND_GROUPS) {
    if (group.name === named) (await group.register())(program);
    else program.command(group.name).description(group.summary);
  }
}
