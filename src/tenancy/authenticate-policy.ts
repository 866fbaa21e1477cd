import type { Policy } from '../core/pipeline.js';
import { authorizeModel, type Authenticator } from './authenticator.js';

/**
 * Establishes who is calling and whether they may use the model they asked for. At the HTTP edge
 * (`ctx.authenticate`) the principal comes from the request's key (401 when it is missing or not
 * valid); a library caller vouches for `ctx.principal` itself. Either way a key limited to some
 * aliases gets 403 `forbidden` for any other. It runs inside `settle`, so refusals are logged and
 * land in the ledger like any other outcome.
 *
 * @example compose(settle(observers), authenticate(authenticator), ...)(terminal)
 */
export function authenticate(authenticator: Authenticator): Policy {
  return {
    name: 'authenticate',
    // Synchronous unless the principal must still be established (a library caller asking for it).
    wrap: (next) => (call, ctx) => {
      if (ctx.authenticate === true) {
        return authenticator.authenticate(ctx.headers).then((principal) => {
          ctx.principal = principal;
          authorizeModel(principal, call.request.model);
          return next(call, ctx);
        });
      }
      try {
        authorizeModel(ctx.principal, call.request.model);
      } catch (err) {
        return Promise.reject(err);
      }
      return next(call, ctx);
    },
  };
}
