import { describe } from 'node:test';
import { budgetStoreContract } from '../../test/kits/budget-store-contract.js';
import { createMemoryBudgetStore } from './memory-budget-store.js';

void describe('memory budget store', () => {
  budgetStoreContract(async () => createMemoryBudgetStore());
});
