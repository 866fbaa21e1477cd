import { withoutTollgateFields } from '../core/attribution.js';
import type { Policy } from '../core/pipeline.js';

/**
 * Removes Tollgate's own request fields (`metadata.feature`, `metadata.tags`) before the call
 * goes on. Attribution has already read them (`attribute` runs when the context is made).
 */
export function stripTollgateFields(): Policy {
  return {
    name: 'strip-tollgate-fields',
    wrap: (next) => (call, ctx) => {
      if (call.kind !== 'chat') return next(call, ctx);
      const request = withoutTollgateFields(call.request);
      return next(request === call.request ? call : { ...call, request }, ctx);
    },
  };
}
