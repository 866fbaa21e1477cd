import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { writeFrame } from './sse.js';

/** A response whose socket is always full: every write asks the writer to wait for `drain`. */
class FullResponse extends EventEmitter {
  destroyed = false;
  written: string[] = [];
  write(frame: string): boolean {
    this.written.push(frame);
    return false;
  }
}

void describe('SSE frames', () => {
  void it('waits for drain without leaving a listener behind, however many waits a stream needs', async () => {
    const res = new FullResponse();
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 1_000; i++) {
        const wrote = writeFrame(res as unknown as ServerResponse, `data: ${i}\n\n`);
        res.emit('drain');
        await wrote;
        assert.deepEqual(
          ['drain', 'close', 'error'].map((e) => res.listenerCount(e)),
          [0, 0, 0],
          `after wait ${i}`,
        );
      }
      const closing = writeFrame(res as unknown as ServerResponse, 'data: last\n\n');
      res.emit('close');
      await closing;
      assert.equal(res.listenerCount('drain'), 0);
    } finally {
      process.off('warning', onWarning);
    }
    assert.equal(res.written.length, 1_001);
    assert.deepEqual(
      warnings.map((w) => w.name),
      [],
    );
  });
});
