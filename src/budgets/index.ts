/** Budgets: definitions, the SQL repository, the budget notation of the CLI. */
export * from './types.js';
export { createSqlBudgetRepository } from './budget-repository.js';
export { budgetIdFor, parseBudgetSpec, toBudget } from './budget-spec.js';
export { dollarsToMicros, formatMicros } from '../pricing/money.js';
