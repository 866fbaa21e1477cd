/** Budgets: definitions, the SQL repository, the budget notation of the CLI. */
export * from './types.js';
export { createSqlBudgetRepository } from './budget-repository.js';
export { budgetIdFor, dollarsToMicros, formatMicros, parseBudgetSpec, toBudget } from './budget-spec.js';
