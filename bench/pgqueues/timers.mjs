// Baselines for durable_bench --mode timers: the same 100k jobs due evenly within 10 s, on the
// same PostgreSQL, scheduled and worked by pg-boss 10.4.2 or graphile-worker 0.17.3.
//
//   node timers.mjs pg-boss|graphile-worker URL [count] [within_s]
//
// Lateness = when the handler is called − the job's due time (both Date.now() on this machine).
// Like durable_bench, jobs are all scheduled before the workers start, with a lead long enough
// for scheduling to finish before the first is due (calibrated on 1000 jobs due a day ahead).
// Prints one readable line and then one JSON line (the last), read by run_durable_bench.sh.
//
// Settings (the baselines, tuned for this workload rather than left at defaults):
// - pg-boss: 4 workers (work() subscriptions), batchSize 100 each, pollingIntervalSeconds 0.5,
//   the minimum pg-boss allows (default 2 s); bulk scheduling with insert() and startAfter.
//   A pg-boss worker waits out its polling interval after every fetch, even one that returned a
//   full batch, so its ceiling is workers × batchSize / 0.5 s (800/s here). PGBOSS_WORKERS and
//   PGBOSS_BATCH change that; run_durable_bench.sh also runs 4 × 1000 to show the effect.
// - graphile-worker: concurrency 24 and maxPoolSize 26 (its performance docs' setup and its
//   own pool advice), localQueue size 500 (batched fetching, "184k jobs/s with batching"),
//   completeJobBatchDelay 0 (batched completion), pollInterval 100 ms (default 2 s; future
//   run_at jobs are found by polling); bulk scheduling with addJobs and runAt.
import PgBoss from 'pg-boss';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';

const [queue, url, countArg, withinArg] = process.argv.slice(2);
const count = Number(countArg ?? 100000);
const withinMs = Number(withinArg ?? 10) * 1000;
const chunk = 1000;
if (!['pg-boss', 'graphile-worker'].includes(queue) || !url) {
  console.error('usage: node timers.mjs pg-boss|graphile-worker URL [count] [within_s]');
  process.exit(2);
}

const lateness = [];
let lastFire = 0;
const record = (due) => {
  const now = Date.now();
  lateness.push(now - due);
  lastFire = now;
};

// Schedules `n` jobs in chunks with `add(jobs)`, job i due at dueOf(i).
async function schedule(n, dueOf, add) {
  for (let i = 0; i < n; i += chunk) {
    const jobs = [];
    for (let k = i; k < Math.min(n, i + chunk); ++k) jobs.push(dueOf(k));
    await add(jobs);
  }
}

async function armAll(add) {
  const c0 = performance.now();
  const far = Date.now() + 86400000;
  await schedule(Math.min(1000, count), () => far, add);
  const perJob = (performance.now() - c0) / Math.min(1000, count);
  const leadMs = 2000 + 1.5 * perJob * count;
  const firstDue = Date.now() + Math.round(leadMs);
  const a0 = performance.now();
  await schedule(count, (i) => firstDue + Math.floor((withinMs * i) / count), add);
  const armS = (performance.now() - a0) / 1000;
  return { firstDue, armS };
}

let stop;
let firstDue;
let armS;
if (queue === 'pg-boss') {
  const boss = new PgBoss({ connectionString: url, max: 10 });
  boss.on('error', (e) => console.error('pg-boss:', e.message));
  await boss.start();
  await boss.createQueue('deadline');
  ({ firstDue, armS } = await armAll((dues) =>
    boss.insert(
      dues.map((due) => ({ name: 'deadline', data: { due }, startAfter: new Date(due).toISOString() })),
    ),
  ));
  const workers = Number(process.env.PGBOSS_WORKERS ?? 4);
  const batchSize = Number(process.env.PGBOSS_BATCH ?? 100);
  for (let w = 0; w < workers; ++w) {
    await boss.work('deadline', { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) record(job.data.due);
    });
  }
  stop = () => boss.stop({ graceful: false, wait: true });
} else {
  const quiet = new Logger(() => (level, message) => {
    if (level === 'error') console.error('graphile-worker:', message);
  });
  const utils = await makeWorkerUtils({ connectionString: url, logger: quiet });
  await utils.migrate();
  ({ firstDue, armS } = await armAll((dues) =>
    utils.addJobs(dues.map((due) => ({ identifier: 'deadline', payload: { due }, runAt: new Date(due) }))),
  ));
  await utils.release();
  const runner = await run({
    connectionString: url,
    concurrency: 24,
    maxPoolSize: 26,
    pollInterval: 100,
    noHandleSignals: true,
    logger: quiet,
    preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0 } },
    taskList: { deadline: async (payload) => record(payload.due) },
  });
  stop = () => runner.stop();
}

const started = Date.now();
// Long enough for pg-boss with small batches (about 640 fires/s here) to fire all 100k.
const deadline = started + withinMs + Number(process.env.TIMEOUT_S ?? 600) * 1000;
while (lateness.length < count && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 20));
}
const fired = lateness.length;
await stop();

lateness.sort((a, b) => a - b);
const pct = (p) => (fired ? lateness[Math.min(fired - 1, Math.max(0, Math.ceil(p * fired) - 1))] : 0);
const windowS = (lastFire - Math.max(firstDue, started)) / 1000;
const firesPerS = windowS > 0 ? Math.round(fired / windowS) : 0;
const pkg =
  queue === 'pg-boss'
    ? `pg-boss@10.4.2 (${process.env.PGBOSS_WORKERS ?? 4} workers x batchSize ${process.env.PGBOSS_BATCH ?? 100})`
    : 'graphile-worker@0.17.3 (concurrency 24, localQueue 500)';
console.log(
  `${pkg}: scheduled ${count} in ${armS.toFixed(2)} s; ${fired} fired in ${windowS.toFixed(2)} s ` +
    `after the first was due: ${firesPerS} fires/s, lateness p50 ${pct(0.5)} ms p99 ${pct(0.99)} ms ` +
    `max ${fired ? lateness[fired - 1] : 0} ms`,
);
console.log(
  JSON.stringify({
    mode: 'timers',
    queue: pkg,
    node: process.version,
    count,
    fired,
    arm_s: armS,
    fires_per_s: firesPerS,
    lateness_p50_ms: pct(0.5),
    lateness_p99_ms: pct(0.99),
    lateness_max_ms: fired ? lateness[fired - 1] : 0,
  }),
);
process.exit(fired === count ? 0 : 1);
