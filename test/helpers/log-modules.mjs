// `node --import ./log-modules.mjs …`: appends the URL of every module loaded through the ESM
// loader to the file $TOLLGATE_TEST_MODULE_LOG (to assert what a command does not load).
import { register } from 'node:module';

register('./log-modules-hooks.mjs', import.meta.url);
