import { appendFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceLog, type InferenceLogOptions } from './inference-log.ts';
import { registerInferenceLogMetrics } from './log-metrics.ts';
import { decodeSegment } from './segment-codec.ts';
import { testRecord } from './test-records.ts';

const dirs: string[] = [];
const logs: InferenceLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function openLog(opts: Partial<InferenceLogOptions> = {}, dir?: string): Promise<InferenceLog> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'keel-ilog-')));
  if (!dir) dirs.push(d);
  const log = await InferenceLog.open({ dir: d, ...opts });
  logs.push(log);
  return log;
}

const segmentFiles = async (dir: string) => (await readdir(join(dir, 'segments'))).sort().map((f) => join(dir, 'segments', f));

describe('InferenceLog group commit', () => {
  it('batches concurrent appends into one write and one fdatasync', async () => {
    const log = await openLog();
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(testRecord(i))));
    const s = log.stats();
    expect(s.appends).toBe(200);
    expect(s.syncs).toBe(1);
    expect(s.largestBatch).toBe(200);
  });

  it('reports records, writes and bytes as Prometheus counters when scraped', async () => {
    const log = await openLog();
    const registry = new Registry();
    registerInferenceLogMetrics(registry, log);
    await Promise.all(Array.from({ length: 30 }, (_, i) => log.append(testRecord(i))));
    await log.append(testRecord(30));
    const value = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
    expect(await value('keel_inference_log_records_total')).toBe(31);
    expect(await value('keel_inference_log_writes_total')).toBe(2);
    expect(await value('keel_inference_log_bytes_total')).toBe(log.stats().bytes);
    // A second scrape reads the same totals, not twice them.
    expect(await value('keel_inference_log_records_total')).toBe(31);
  });

  it('caps a batch at maxBatchBytes; 1 byte means one fdatasync per record', async () => {
    const log = await openLog({ maxBatchBytes: 1 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(testRecord(i))));
    expect(log.stats().syncs).toBe(20);
  });

  it('resolves an append only once its record is in the file, and keeps append order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-ilog-'));
    dirs.push(dir);
    const log = await openLog({}, dir);
    const seen: number[] = [];
    const appends = Array.from({ length: 50 }, (_, i) =>
      log.append(testRecord(i)).then(async () => {
        const [file] = await segmentFiles(dir);
        const ids = decodeSegment(await readFile(file as string)).map((r) => r.requestId);
        expect(ids).toContain(testRecord(i).requestId);
        seen.push(i);
      }),
    );
    await Promise.all(appends);
    for (let i = 50; i < 60; i++) await log.append(testRecord(i));
    const [file] = await segmentFiles(dir);
    const records = decodeSegment(await readFile(file as string));
    expect(records).toEqual(Array.from({ length: 60 }, (_, i) => testRecord(i)));
    expect(seen).toHaveLength(50);
  });

  it('keeps every record whole and in order while batches of changing sizes reuse written buffers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-ilog-'));
    dirs.push(dir);
    const log = await openLog({}, dir);
    const sized = (i: number) => {
      const r = testRecord(i);
      return { ...r, extra: { pad: 'x'.repeat((i * 397) % 3000) } };
    };
    // Some waves start once the last is durable (a new batch on a written buffer), others a turn
    // later, while a write is in flight (they queue into the next batch).
    const appends: Promise<void>[] = [];
    let i = 0;
    for (const [w, size] of [1, 40, 3, 25, 60, 2, 30, 7].entries()) {
      for (let k = 0; k < size; k++) appends.push(log.append(sized(i++)));
      if (w % 2 === 0) await appends[appends.length - 1];
      else await new Promise((r) => setImmediate(r));
    }
    await Promise.all(appends);
    expect(log.stats().batches).toBeGreaterThan(2);
    const [file] = await segmentFiles(dir);
    expect(decodeSegment(await readFile(file as string))).toEqual(Array.from({ length: i }, (_, n) => sized(n)));
  });

  it('close() flushes appends still queued', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-ilog-'));
    dirs.push(dir);
    const log = await InferenceLog.open({ dir, maxWaitMs: 60_000 });
    const pending = Array.from({ length: 30 }, (_, i) => log.append(testRecord(i)));
    await log.close();
    await Promise.all(pending);
    await expect(log.append(testRecord(99))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const reopened = await openLog({}, dir);
    const { rows } = await reopened.queryLog('SELECT count(*) AS n FROM inference_log');
    expect(rows).toEqual([{ n: 30 }]);
  });

  it('fails every append with UNAVAILABLE once a write cannot be made durable, never acknowledging it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-ilog-'));
    dirs.push(dir);
    const log = await openLog({}, dir);
    await rm(join(dir, 'segments'), { recursive: true });
    const results = await Promise.allSettled([log.append(testRecord(1)), log.append(testRecord(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(log.append(testRecord(3))).rejects.toMatchObject({ code: 'UNAVAILABLE', message: /inference log write failed/ });
  });

  it('refuses a record that cannot be serialised without breaking the log', async () => {
    const log = await openLog();
    const bad = { ...testRecord(1), extra: { n: 1n } } as unknown as ReturnType<typeof testRecord>;
    await expect(log.append(bad)).rejects.toMatchObject({ code: 'INTERNAL' });
    await log.append(testRecord(2));
    expect((await log.queryLog('SELECT request_id FROM inference_log')).rows).toEqual([{ request_id: 'req_000002' }]);
  });

  it('refuses a string with an unpaired surrogate with a 400, and the log stays readable and compactable', async () => {
    const log = await openLog();
    for (const s of ['a\ud800b', '\udc00', 'x\ud83d']) {
      const bad = { ...testRecord(1), inputs: { note: s } };
      await expect(log.append(bad)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /unpaired UTF-16 surrogate/ });
    }
    // Paired surrogates (an emoji) and a logged backslash followed by "ud800" are ordinary text.
    const fine = { ...testRecord(2), inputs: { emoji: '\u{1F600}', text: '\\ud800', both: '\\\u{1F600}' } };
    await log.append(fine);
    expect(await log.findRecord(fine.requestId)).toEqual(fine);
    await log.roll();
    await log.compactNow();
    expect(log.stats()).toMatchObject({ failures: 0, pendingSegments: 0, parquetFiles: 1 });
    expect(await log.findRecord(fine.requestId)).toEqual(fine);
  });

  it('refuses a record nested too deeply to serialise with a 400, not an internal error', async () => {
    const log = await openLog();
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const bad = { ...testRecord(1), inputs: { deep } } as unknown as ReturnType<typeof testRecord>;
    await expect(log.append(bad)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /nested too deeply/ });
    await log.append(testRecord(2));
    expect((await log.queryLog('SELECT request_id FROM inference_log')).rows).toEqual([{ request_id: 'req_000002' }]);
  });
});

describe('InferenceLog recovery', () => {
  it('truncates a torn tail, reports it, and appends to a new segment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-ilog-'));
    dirs.push(dir);
    const first = await InferenceLog.open({ dir, compact: false });
    for (let i = 0; i < 10; i++) await first.append(testRecord(i));
    await first.close();
    const [segment] = await segmentFiles(dir);
    const whole = (await readFile(segment as string)).length;
    const line = (await readFile(segment as string)).toString('utf8').split('\n')[0] as string;
    await appendFile(segment as string, line.slice(0, line.length / 2));

    const log = await openLog({ compact: false }, dir);
    expect(log.recovery).toMatchObject({ segments: 1, records: 10, tornTails: 1, tornRecords: 1, corruptRecords: 0 });
    expect((await readFile(segment as string)).length).toBe(whole);
    await log.append(testRecord(10));
    expect(await segmentFiles(dir)).toHaveLength(2);
    const { rows } = await log.queryLog('SELECT request_id FROM inference_log ORDER BY request_id');
    expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 11 }, (_, i) => testRecord(i).requestId));
  });

  it('never returns a record whose checksum fails, and counts it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-ilog-'));
    dirs.push(dir);
    const first = await InferenceLog.open({ dir, compact: false });
    for (let i = 0; i < 5; i++) await first.append(testRecord(i));
    await first.close();
    const [segment] = await segmentFiles(dir);
    const text = (await readFile(segment as string)).toString('utf8');
    // Same length, valid JSON, wrong content: only the checksum can tell.
    await import('node:fs/promises').then((fs) => fs.writeFile(segment as string, text.replace('"i":2,', '"i":7,')));

    const log = await openLog({}, dir);
    expect(log.recovery).toMatchObject({ records: 4, corruptRecords: 1, tornTails: 0 });
    const ids = async () => (await log.queryLog('SELECT request_id FROM inference_log ORDER BY 1')).rows.map((r) => r.request_id);
    expect(await ids()).toEqual(['req_000000', 'req_000001', 'req_000003', 'req_000004']);
    await log.compactNow();
    expect(log.stats()).toMatchObject({ parquetFiles: 1, pendingSegments: 0, recordsCompacted: 4 });
    expect(await ids()).toEqual(['req_000000', 'req_000001', 'req_000003', 'req_000004']);
  });

  it('resolves a crash between publishing a Parquet file and deleting its segment in favour of the Parquet file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-ilog-'));
    dirs.push(dir);
    const first = await InferenceLog.open({ dir });
    for (let i = 0; i < 5; i++) await first.append(testRecord(i));
    const [segment] = await segmentFiles(dir);
    const content = await readFile(segment as string);
    await first.roll();
    await first.compactNow();
    await first.close();
    await import('node:fs/promises').then((fs) => fs.writeFile(segment as string, content));

    const log = await openLog({}, dir);
    expect(log.recovery.compactedSegmentsRemoved).toBe(1);
    expect((await log.queryLog('SELECT count(*) AS n FROM inference_log')).rows).toEqual([{ n: 5 }]);
  });
});
