// The XState 5 baseline for bench/step_bench.cpp: the same complaint lifecycle as
// workflows/complaint.yaml and the same 50-state chain, measured the same way.
//
//   node --expose-gc --max-old-space-size=6144 complaint.mjs [--repeat 3] [--idle 100000] [--scale 1]
//
// Figures (one line each, then one JSON line with all of them):
//   - complaint: createActor(...).start() (received → triage → assigned), then acknowledge,
//     need_info, customer_replied, resolved, visited {score: 5} → closed: six transitions per
//     lifecycle, driven round-robin over 1 and 10,000 actors, one phase across all actors before
//     the next (as step_bench does).
//   - chain: 50 states in a ring, one event per state, no actions.
//   - idle: actors parked in waiting_customer (its two `after` timers armed); bytes per actor =
//     growth of process.memoryUsage().heapUsed after global.gc(), the array holding them included.
//     JSON.stringify(actor.getPersistedSnapshot()) is printed for reference.
//
// The machine mirrors complaint.yaml state by state: the same events and payloads, the same
// guards (channel, received late, score, reopened, roles), the same context updates, the
// least_loaded choice over the same directory and workload, notifications as effect records,
// priority changes, and the waiting_customer / return_visit timers. What XState has no
// counterpart for is left out and named in docs/benchmarks.md: SLA clocks in business time,
// payload validation against the `events:` schemas, and the history log.
//
// Time is this process's CPU time (process.cpuUsage: user + system, all threads, so garbage
// collection on helper threads counts), best of --repeat runs.
import { readFileSync } from 'node:fs';
import { assign, createActor, raise, setup } from 'xstate';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ---- directory and workload (config/ombud.yaml, directory: people) --------------------------

const PEOPLE = [
  { id: 'zhao.min', roles: ['director'], manager: '', skills: [], capacity: 0 },
  { id: 'zhang.wei', roles: ['manager'], manager: 'zhao.min', skills: [], capacity: 0 },
  { id: 'chen.jing', roles: ['supervisor'], manager: 'zhang.wei', skills: [], capacity: 30 },
  { id: 'li.na', roles: ['agent'], manager: 'chen.jing', skills: ['billing', 'after_sales', 'regulator_liaison'], capacity: 20 },
  { id: 'wang.fang', roles: ['agent'], manager: 'chen.jing', skills: ['delivery', 'after_sales', 'regulator_liaison'], capacity: 20 },
  { id: 'liu.yang', roles: ['agent'], manager: 'chen.jing', skills: ['billing', 'delivery'], capacity: 15 },
  { id: 'sun.hao', roles: ['manager', 'reviewer'], manager: 'zhao.min', skills: [], capacity: 10 },
  { id: 'huang.li', roles: ['account_manager'], manager: 'sun.hao', skills: [], capacity: 0 },
  { id: 'xu.ming', roles: ['account_manager'], manager: 'sun.hao', skills: [], capacity: 0 },
  { id: 'zhou.lei', roles: ['manager'], manager: 'zhao.min', skills: [], capacity: 0 },
  { id: 'ma.jun', roles: ['salesperson'], manager: 'zhou.lei', skills: [], capacity: 40 },
  { id: 'hu.yan', roles: ['salesperson'], manager: 'zhou.lei', skills: [], capacity: 40 },
  { id: 'guo.qiang', roles: ['reviewer'], manager: 'zhou.lei', skills: [], capacity: 15 },
  { id: 'lin.xue', roles: ['contract_admin'], manager: 'zhou.lei', skills: [], capacity: 0 },
  { id: 'he.ping', roles: ['hr'], manager: 'zhao.min', skills: [], capacity: 0 },
];
const QUEUES = { complaints: { members: [], roles: ['agent'] } };
// Open cases per handler, as step_bench's FixedWorkload: wang.fang has the fewest.
const OPEN_CASES = { 'li.na': 3, 'wang.fang': 1, 'liu.yang': 2 };

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function peopleWithRole(role) {
  return PEOPLE.filter((p) => p.roles.includes(role)).sort(byId);
}

function queueMembers(name) {
  const q = QUEUES[name];
  if (!q) return [];
  const seen = new Set();
  const out = [];
  for (const p of PEOPLE) {
    if ((q.members.includes(p.id) || p.roles.some((r) => q.roles.includes(r))) && !seen.has(p.id)) {
      seen.add(p.id);
      out.push(p);
    }
  }
  return out.sort(byId);
}

// Fewest open cases among those below capacity and holding every skill; ties by id.
function leastLoaded(candidates, skills) {
  let best = null;
  let bestLoad = 0;
  for (const p of candidates) {
    if (!skills.every((s) => p.skills.includes(s))) continue;
    const load = OPEN_CASES[p.id] ?? 0;
    if (p.capacity > 0 && load >= p.capacity) continue;
    if (best === null || load < bestLoad || (load === bestLoad && p.id < best.id)) {
      best = p;
      bestLoad = load;
    }
  }
  return best;
}

// ---- effects: what the runtime would persist and deliver after the step -------------------

const outbox = [];

function recipients(to, context) {
  if (to === 'assignee') return context.assignee ? [context.assignee] : [];
  if (to.startsWith('role:')) return peopleWithRole(to.slice(5)).map((p) => p.id);
  return [];
}

const notify = (to, template) => ({ context }) => {
  outbox.push({ template, to, recipients: recipients(to, context) });
};

const hasRole = (allowed) => ({ event }) => event.roles.some((r) => allowed.includes(r));

const fromQueue = (queue, skills) =>
  assign(({ context }) => {
    const p = leastLoaded(queueMembers(queue), skills);
    return p ? { assignee: p.id, queue: '' } : { assignee: '', queue };
  });

const fromRole = (role) =>
  assign(({ context }) => {
    const p = leastLoaded(peopleWithRole(role), []);
    return p ? { assignee: p.id } : { assignee: context.assignee };
  });

const priority = (level) => assign({ priority: level });

// ---- the complaint machine (workflows/complaint.yaml) ---------------------------------------

const complaint = setup({
  delays: {
    chase: 3 * DAY,
    abandon: 10 * DAY,
    callback: ({ context }) => Math.max(0, Date.parse(context.callback_at) - Date.now()),
  },
}).createMachine({
  id: 'complaint',
  initial: 'received',
  context: ({ input }) => ({
    phone: input.phone,
    customer_name: input.customer_name,
    channel: input.channel ?? 'phone',
    agency: input.agency,
    agency_ref: input.agency_ref,
    received_at: input.received_at,
    category: input.category ?? 'other',
    summary: input.summary,
    question: undefined,
    escalation_reason: undefined,
    resolution: undefined,
    callback_at: undefined,
    score: undefined,
    comment: undefined,
    reopened: 0,
    contacts: 1,
    last_note: undefined,
    cancel_reason: undefined,
    assignee: '',
    queue: '',
    priority: 'normal',
  }),
  on: {
    add_note: { actions: assign({ last_note: ({ event }) => event.note }) },
    customer_called: {
      actions: [assign({ contacts: ({ context }) => context.contacts + 1 }), notify('assignee', 'complaint_repeat_call')],
    },
    cancel: {
      guard: hasRole(['supervisor']),
      target: '.cancelled',
      actions: assign({ cancel_reason: ({ event }) => event.reason }),
    },
  },
  states: {
    received: {
      entry: [
        assign({ received_at: ({ context }) => context.received_at ?? new Date().toISOString() }),
        raise({ type: 'triage' }),
      ],
      on: {
        triage: [
          {
            guard: ({ context }) => context.channel === 'agency',
            target: 'assigned',
            actions: [priority('high'), fromQueue('complaints', ['regulator_liaison'])],
          },
          {
            guard: ({ context }) => Date.parse(context.received_at) < Date.now() - DAY,
            target: 'assigned',
            actions: [priority('high'), fromQueue('complaints', [])],
          },
          { target: 'assigned', actions: fromQueue('complaints', []) },
        ],
      },
    },
    assigned: {
      entry: notify('assignee', 'complaint_assigned'),
      on: {
        acknowledge: { guard: hasRole(['agent', 'supervisor']), target: 'investigating' },
        escalate: {
          guard: hasRole(['agent']),
          target: 'supervisor_review',
          actions: assign({ escalation_reason: ({ event }) => event.reason }),
        },
        resolve_overdue: 'supervisor_review',
      },
    },
    investigating: {
      on: {
        need_info: { target: 'waiting_customer', actions: assign({ question: ({ event }) => event.question }) },
        resolved: {
          target: 'return_visit',
          actions: assign({ resolution: ({ event }) => event.resolution, callback_at: ({ event }) => event.callback_at }),
        },
        escalate: {
          guard: hasRole(['agent']),
          target: 'supervisor_review',
          actions: assign({ escalation_reason: ({ event }) => event.reason }),
        },
        resolve_overdue: 'supervisor_review',
      },
    },
    waiting_customer: {
      on: {
        customer_replied: 'investigating',
        customer_called: {
          target: 'investigating',
          actions: [assign({ contacts: ({ context }) => context.contacts + 1 }), notify('assignee', 'complaint_repeat_call')],
        },
      },
      after: {
        chase: { actions: notify('assignee', 'complaint_customer_chase') },
        abandon: { target: 'abandoned', actions: notify('role:supervisor', 'complaint_abandoned') },
      },
    },
    supervisor_review: {
      entry: [fromRole('supervisor'), notify('assignee', 'complaint_supervisor_review')],
      on: {
        reassign: {
          guard: hasRole(['supervisor']),
          target: 'investigating',
          actions: [assign({ assignee: ({ event }) => event.agent }), notify('assignee', 'complaint_reassigned')],
        },
        redispatch: { guard: hasRole(['supervisor']), target: 'assigned', actions: fromQueue('complaints', []) },
        need_info: { target: 'waiting_customer', actions: assign({ question: ({ event }) => event.question }) },
        resolved: {
          target: 'return_visit',
          actions: assign({ resolution: ({ event }) => event.resolution, callback_at: ({ event }) => event.callback_at }),
        },
      },
    },
    return_visit: {
      after: { callback: { actions: notify('assignee', 'return_visit_due') } },
      on: {
        visited: [
          { guard: ({ event }) => event.score >= 3, target: 'closed', actions: assign({ score: ({ event }) => event.score }) },
          {
            guard: ({ context }) => context.reopened >= 1,
            target: 'supervisor_review',
            actions: [
              assign({ score: ({ event }) => event.score, reopened: ({ context }) => context.reopened + 1 }),
              priority('urgent'),
              notify('role:supervisor', 'complaint_unsatisfied'),
            ],
          },
          {
            target: 'investigating',
            actions: [
              assign({ score: ({ event }) => event.score, reopened: ({ context }) => context.reopened + 1 }),
              priority('high'),
              notify('role:supervisor', 'complaint_unsatisfied'),
            ],
          },
        ],
        visit_unreachable: { guard: hasRole(['agent', 'supervisor']), target: 'closed' },
      },
    },
    closed: { type: 'final' },
    abandoned: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

// The same payloads as step_bench. The sender's roles ride on the event (ombud takes them from
// the API caller).
const T0 = Date.parse('2026-11-30T02:00:00Z');
const CALLBACK_AT = new Date(T0 + 49 * HOUR).toISOString().replace('.000Z', 'Z');
const ACTOR = { actor: 'wang.fang', roles: ['agent'] };
const EVENTS = [
  { type: 'acknowledge', note: 'called back, complaint confirmed', ...ACTOR },
  { type: 'need_info', question: 'Which invoice number was charged twice?', ...ACTOR },
  { type: 'customer_replied', note: 'invoice 2026-11-0042', ...ACTOR },
  { type: 'resolved', resolution: 'duplicate charge refunded', callback_at: CALLBACK_AT, ...ACTOR },
  { type: 'visited', score: 5, comment: 'refund received', ...ACTOR },
];
const PHASES = 1 + EVENTS.length;

function inputs(n, first = 0) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      phone: `139${10000000 + first + i}`,
      customer_name: `Customer ${first + i}`,
      channel: 'phone',
      category: 'billing',
      summary: 'charged twice for the November invoice',
    };
  }
  return out;
}

// ---- the 50-state chain ----------------------------------------------------------------------

const CHAIN_STATES = 50;
const chainStates = {};
for (let i = 0; i < CHAIN_STATES; i++) chainStates[`s${i}`] = { on: { [`e${i}`]: `s${(i + 1) % CHAIN_STATES}` } };
const chain = setup({}).createMachine({ id: 'chain', initial: 's0', states: chainStates });
const CHAIN_EVENTS = Array.from({ length: CHAIN_STATES }, (_, i) => ({ type: `e${i}` }));

// ---- measuring -------------------------------------------------------------------------------

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function die(message) {
  console.error(`complaint.mjs: ${message}`);
  process.exit(1);
}

function runComplaints(instances, rounds) {
  const data = inputs(instances);
  const actors = new Array(instances);
  // With many actors, CPU time per phase (start, then each event), read once per phase.
  const byPhase = instances >= 1000;
  const phaseSeconds = new Array(PHASES).fill(0);
  let calls = 0;
  const begin = cpuSeconds();
  for (let r = 0; r < rounds; r++) {
    let phaseBegin = byPhase ? cpuSeconds() : 0;
    for (let i = 0; i < instances; i++) actors[i] = createActor(complaint, { input: data[i] }).start();
    outbox.length = 0;
    if (byPhase) phaseSeconds[0] += cpuSeconds() - phaseBegin;
    for (let p = 0; p < EVENTS.length; p++) {
      const ev = EVENTS[p];
      phaseBegin = byPhase ? cpuSeconds() : 0;
      for (let i = 0; i < instances; i++) actors[i].send(ev);
      outbox.length = 0;
      if (byPhase) phaseSeconds[p + 1] += cpuSeconds() - phaseBegin;
    }
    calls += instances * PHASES;
    for (let i = 0; i < instances; i++) {
      const s = actors[i].getSnapshot();
      if (s.value !== 'closed' || s.status !== 'done') die(`a complaint ended in '${s.value}', not 'closed'`);
    }
  }
  const seconds = cpuSeconds() - begin;
  const phases = byPhase ? phaseSeconds.map((t) => (t * 1e6) / (instances * rounds)) : [];
  return { transitions: calls, calls, seconds, phases };
}

function runChain(instances, stepsEach) {
  const actors = [];
  for (let i = 0; i < instances; i++) actors.push(createActor(chain).start());
  const begin = cpuSeconds();
  for (let s = 0; s < stepsEach; s++) {
    const ev = CHAIN_EVENTS[s % CHAIN_STATES];
    for (let i = 0; i < instances; i++) actors[i].send(ev);
  }
  const seconds = cpuSeconds() - begin;
  const expected = `s${stepsEach % CHAIN_STATES}`;
  for (const a of actors) if (a.getSnapshot().value !== expected) die(`chain: in ${a.getSnapshot().value}, expected ${expected}`);
  for (const a of actors) a.stop();
  const calls = instances * stepsEach;
  return { transitions: calls, calls, seconds };
}

// Counts the transitions XState itself reports (inspection microsteps), once, untimed: the
// timed runs assume one per call, as step_bench checks for ombud.
function checkTransitionsPerCall() {
  let transitions = 0;
  const inspect = (ev) => {
    if (ev.type === '@xstate.microstep') transitions += ev._transitions.length;
  };
  const a = createActor(complaint, { input: inputs(1)[0], inspect }).start();
  for (const ev of EVENTS) a.send(ev);
  if (transitions !== PHASES) die(`the complaint lifecycle made ${transitions} transitions, expected ${PHASES}`);
  transitions = 0;
  const c = createActor(chain, { inspect }).start();
  for (let s = 0; s < 100; s++) c.send(CHAIN_EVENTS[s % CHAIN_STATES]);
  c.stop();
  if (transitions !== 100) die(`the chain made ${transitions} transitions in 100 sends`);
}

function bestOf(repeat, run) {
  let best = null;
  for (let i = 0; i < repeat; i++) {
    const t = run();
    if (best === null || t.seconds < best.seconds) best = t;
  }
  return { ...best, perSecond: best.transitions / best.seconds, nsPerStep: (best.seconds * 1e9) / best.calls };
}

function gcHeapUsed() {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

function measureIdle(count) {
  const before = gcHeapUsed();
  const parked = new Array(count);
  for (let i = 0; i < count; i++) {
    // Built here and then held only by the actor, as a request body would be.
    const a = createActor(complaint, { input: inputs(1, i)[0] }).start();
    a.send(EVENTS[0]);
    a.send(EVENTS[1]);
    parked[i] = a;
  }
  outbox.length = 0;
  const after = gcHeapUsed();
  if (parked[0].getSnapshot().value !== 'waiting_customer') die('idle: not parked in waiting_customer');
  let json = 0;
  const sample = Math.min(count, 1000);
  for (let i = 0; i < sample; i++) json += JSON.stringify(parked[i].getPersistedSnapshot()).length;
  const result = { count, bytesPerInstance: (after - before) / count, jsonBytes: json / sample };
  for (const a of parked) a.stop();
  return result;
}

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : fallback;
}

function main() {
  if (typeof global.gc !== 'function') die('run with node --expose-gc');
  const repeat = Math.max(1, option('--repeat', 3));
  const idleCount = Math.max(1, option('--idle', 100000));
  const scale = Math.max(0.01, option('--scale', 1));
  const scaled = (n) => Math.max(1, Math.round(n * scale));
  const version = JSON.parse(readFileSync(new URL('./node_modules/xstate/package.json', import.meta.url))).version;

  console.log(`xstate ${version} on node ${process.version}: complaint lifecycle, one core, CPU time, best of ${repeat}`);
  checkTransitionsPerCall();
  runComplaints(1000, 3); // warm-up: let the JIT compile the hot paths
  runChain(1000, 100);

  const line = (what, t) =>
    console.log(
      `${what.padEnd(38)} ${t.perSecond.toFixed(0).padStart(12)} transitions/s ${t.nsPerStep.toFixed(1).padStart(9)} ns/step  (${t.transitions} transitions, ${t.seconds.toFixed(3)} s CPU)`,
    );
  const c1 = bestOf(repeat, () => runComplaints(1, scaled(20000)));
  line('complaint lifecycle, 1 actor', c1);
  const c10k = bestOf(repeat, () => runComplaints(10000, scaled(2)));
  line('complaint lifecycle, 10k actors', c10k);
  const names = ['start', ...EVENTS.map((e) => e.type)];
  console.log(`  CPU time per call by phase: ${c10k.phases.map((us, i) => `${names[i]} ${us.toFixed(1)} us`).join(', ')}`);
  const ch1 = bestOf(repeat, () => runChain(1, scaled(500000)));
  line('50-state chain, 1 actor', ch1);
  const ch10k = bestOf(repeat, () => runChain(10000, scaled(50)));
  line('50-state chain, 10k actors', ch10k);

  const idle = measureIdle(idleCount);
  console.log(
    `idle complaint (waiting_customer), ${idle.count} actors: ${idle.bytesPerInstance.toFixed(0)} bytes/actor (heapUsed growth after gc)`,
  );
  console.log(`idle complaint, JSON.stringify(getPersistedSnapshot()): ${idle.jsonBytes.toFixed(0)} bytes/actor`);

  const figures = { bench: 'xstate', xstate: version, node: process.version, clock: 'process_cpu', repeat };
  for (const [key, t] of [
    ['complaint_1', c1],
    ['complaint_10k', c10k],
    ['chain_1', ch1],
    ['chain_10k', ch10k],
  ]) {
    figures[`${key}_transitions_per_s`] = Math.round(t.perSecond);
    figures[`${key}_ns_per_step`] = Number(t.nsPerStep.toFixed(1));
  }
  figures.idle_instances = idle.count;
  figures.idle_bytes_per_instance = Math.round(idle.bytesPerInstance);
  figures.idle_json_bytes = Math.round(idle.jsonBytes);
  console.log(JSON.stringify(figures));
  // Idle actors' timers are stopped; nothing keeps the event loop alive.
}

main();
