// The load of a rolling restart, from outside, through the load balancer (bench/rolling.sh starts
// the instances and HAProxy and restarts the instances one by one while this runs):
//   - SUBSCRIBERS badge-toast subscribers on the real `graphql-ws` client (its own reconnection,
//     default retry policy), spread over ANALYSES analyses, each resuming with `since` set to the
//     last award it saw (the payload object is sent again on each reconnection);
//   - CLIENTS HTTP clients for RUN_SECONDS seconds: dashboard reads, and the analyses' progress
//     moved step by step (updateProgress), the steps spread evenly over the run so that awards
//     keep coming while instances restart.
// Afterwards it reads the final state back and prints one JSON line: requests and failures,
// acknowledged updates lost, toasts expected, lost and received twice, reconnections, the close
// codes the subscribers saw and the longest gap a subscriber spent without a socket.
// Writes READY_FILE once every subscriber is subscribed (the restarts may begin).
import { writeFileSync } from "node:fs";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const base = process.env.BASE ?? "http://127.0.0.1:8000";
const subscribers = Number(process.env.SUBSCRIBERS ?? 200);
const clients = Number(process.env.CLIENTS ?? 8);
const seconds = Number(process.env.RUN_SECONDS ?? 60);
const analyses = Number(process.env.ANALYSES ?? Math.max(1, Math.ceil(subscribers / 4)));
const readyFile = process.env.READY_FILE;
// the client's wait before reconnecting: graphql-ws's own (1 s + 0.3–3 s, doubled each time) unless
// RETRY_WAIT_MS is set (that long, half of it to one and a half, doubled each time)
const retryWaitMs = process.env.RETRY_WAIT_MS ? Number(process.env.RETRY_WAIT_MS) : null;
const retryWait = retryWaitMs === null ? undefined
  : (retries) => new Promise((r) => setTimeout(r, retryWaitMs * 2 ** retries * (0.5 + Math.random())));

const RECORD = `mutation($input: RecordAnalysisInput!) { recordAnalysis(input: $input) { dashboard { analysisId } } }`;
const UPDATE = `mutation($input: UpdateProgressInput!) { updateProgress(input: $input) { opportunity { status } newBadges { id } } }`;
const READ = `query($id: UUID!) { dashboard(analysisId: $id) { progressSummary { inProgress implemented } metrics { timeSaved { implementedWeekly } } badges { id } } }`;
const FINAL = `query($id: UUID!) { dashboard(analysisId: $id) { opportunities { opportunityId status } badges { id badgeType } } }`;
const TOASTS = `subscription($id: UUID!, $since: DateTime) { badgeAwarded(analysisId: $id, since: $since) { badge { id badgeType earnedAt } } }`;

const OPPS = [
  ["digital_presence", "DIGITAL_PRESENCE", 5, 260, 7],
  ["value_creation", "VALUE_CREATION", 8, 416, 5],
  ["business_management", "BUSINESS_MANAGEMENT", 2, 104, 3],
];
// each analysis' moves, in order (IMPLEMENTED → IN_PROGRESS is the one refused move): its awards
// come along the way
const STEPS = [
  [1, "IN_PROGRESS"], [2, "IN_PROGRESS"], [1, "IMPLEMENTED"], [0, "IN_PROGRESS"], [2, "IMPLEMENTED"],
  [0, "IMPLEMENTED"], [1, "NOT_STARTED"], [1, "IN_PROGRESS"], [2, "NOT_STARTED"], [2, "IMPLEMENTED"],
];

async function post(query, variables) {
  const r = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json().catch(() => ({}));
  if (r.status !== 200 || body.errors || !body.data) {
    throw new Error(`${r.status} ${JSON.stringify(body.errors ?? body).slice(0, 200)}`);
  }
  return body.data;
}

async function retried(what, f) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      if (attempt >= 20) throw new Error(`${what}: ${e.message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

// the analyses, made through the API
const ids = [];
for (let a = 0; a < analyses; a++) {
  const input = {
    url: `https://rolling-${process.pid}-${a}.example.com/`,
    identity: { companyName: `Rolling ${a}`, sector: "Services", estimatedSize: "50-100", tier: "Tier 2" },
    opportunities: OPPS.map(([opportunityId, category, hoursPerWeek, hoursPerYear, complexityLevel]) => ({
      opportunityId, category, hoursPerWeek, hoursPerYear, complexityLevel, problemTeaser: "Slow work", toolsHint: "A tool",
    })),
  };
  const data = await retried("recordAnalysis", () => post(RECORD, { input }));
  ids.push(data.recordAnalysis.dashboard.analysisId);
}

// the subscribers
const subs = [];
let reconnections = 0;
const closeCodes = {};
// closes of sockets never acknowledged (an instance refusing to start a new one while it stops)
const refused = {};
const started = new Date(Date.now() - 1000).toISOString();
await Promise.all(
  Array.from({ length: subscribers }, (_, s) => {
    const sub = { analysis: ids[s % ids.length], seen: [], closedAt: null, longestGap: 0, connected: false };
    subs.push(sub);
    const payload = { query: TOASTS, variables: { id: sub.analysis, since: started } };
    return new Promise((subscribed, failed) => {
      const client = createClient({
        url: `${base.replace(/^http/, "ws")}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 20,
        ...(retryWait ? { retryWait } : {}),
        on: {
          connected: (_socket, _ack, wasRetry) => {
            sub.connected = true;
            if (wasRetry) reconnections++;
            if (sub.closedAt !== null) {
              sub.longestGap = Math.max(sub.longestGap, Date.now() - sub.closedAt);
              sub.closedAt = null;
            }
          },
          closed: (event) => {
            if (!sub.connected) {
              refused[event.code] = (refused[event.code] ?? 0) + 1;
              return;
            }
            sub.connected = false;
            closeCodes[event.code] = (closeCodes[event.code] ?? 0) + 1;
            sub.closedAt = Date.now();
          },
        },
      });
      sub.client = client;
      client.subscribe(payload, {
        next: ({ data, errors }) => {
          if (errors) return (sub.errors = (sub.errors ?? 0) + 1);
          const badge = data.badgeAwarded.badge;
          sub.seen.push(badge.id);
          // resume after it: the client sends this same payload again when it reconnects
          payload.variables.since = badge.earnedAt;
        },
        error: (e) => {
          sub.fatal = String(e?.code ?? e?.message ?? e);
          failed(new Error(`subscriber ${s}: ${sub.fatal}`));
        },
        complete: () => {},
      });
      // subscribed once the server counts it: the socket is acknowledged
      const wait = () => (sub.connected ? subscribed() : setTimeout(wait, 20));
      wait();
    });
  }),
);
// let the server register the subscriptions before the first move
await new Promise((r) => setTimeout(r, 500));
if (readyFile) writeFileSync(readyFile, "ready\n");

// the load
const queue = [];
for (let step = 0; step < STEPS.length; step++) {
  for (let a = 0; a < ids.length; a++) queue.push({ a, opp: STEPS[step][0], status: STEPS[step][1] });
}
// analysis by analysis (a stable sort keeps each one's steps in order): each analysis has its own
// part of the run, so awards keep coming while the instances restart
queue.sort((x, y) => x.a - y.a);
const spacing = (seconds * 900) / queue.length; // over 90% of the run
const t0 = Date.now();
let nextUpdate = 0;
const stats = { requests: 0, failed: 0, failures: {}, updates: 0, acknowledged: 0 };
const attempts = []; // per step: acknowledged or not
async function worker() {
  while (Date.now() - t0 < seconds * 1000) {
    const due = nextUpdate < queue.length && Date.now() - t0 >= nextUpdate * spacing;
    const step = due ? nextUpdate++ : null;
    stats.requests++;
    try {
      if (step !== null) {
        const { a, opp, status } = queue[step];
        stats.updates++;
        attempts[step] = false;
        const input = { analysisId: ids[a], opportunityId: OPPS[opp][0], status, hourlyRate: 50 };
        const data = await post(UPDATE, { input });
        if (data.updateProgress.opportunity.status !== status) throw new Error("wrong status");
        attempts[step] = true;
        stats.acknowledged++;
      } else {
        await post(READ, { id: ids[Math.floor(Math.random() * ids.length)] });
      }
    } catch (e) {
      stats.failed++;
      const key = e.message.slice(0, 60);
      stats.failures[key] = (stats.failures[key] ?? 0) + 1;
    }
  }
}
await Promise.all(Array.from({ length: clients }, worker));

// what the system of record holds now, against what was acknowledged
const finals = await Promise.all(ids.map((id) => retried("final read", () => post(FINAL, { id }))));
let lost = 0;
for (let a = 0; a < ids.length; a++) {
  const status = Object.fromEntries(finals[a].dashboard.opportunities.map((o) => [o.opportunityId, o.status]));
  for (let opp = 0; opp < OPPS.length; opp++) {
    const tried = queue.map((q, i) => ({ ...q, i })).filter((q) => q.a === a && q.opp === opp && attempts[q.i] !== undefined);
    const lastAcked = tried.filter((q) => attempts[q.i]).pop();
    if (!lastAcked) continue;
    // a later attempt that failed on the client's side may still have been applied
    const allowed = new Set([lastAcked.status, ...tried.filter((q) => q.i > lastAcked.i).map((q) => q.status)]);
    if (!allowed.has(status[OPPS[opp][0]])) lost++;
  }
}

// every award of a subscriber's analysis reaches it once: wait for the stragglers (at most 20 s)
const expected = finals.map((f) => new Set(f.dashboard.badges.map((b) => b.id)));
const missing = () => subs.reduce((n, s) => n + [...expected[ids.indexOf(s.analysis)]].filter((b) => !s.seen.includes(b)).length, 0);
for (let waited = 0; missing() > 0 && waited < 20000; waited += 200) await new Promise((r) => setTimeout(r, 200));
await new Promise((r) => setTimeout(r, 1000)); // and any duplicate behind them
let twice = 0;
let unexpected = 0;
let toasts = 0;
for (const s of subs) {
  toasts += s.seen.length;
  twice += s.seen.length - new Set(s.seen).size;
  unexpected += s.seen.filter((b) => !expected[ids.indexOf(s.analysis)].has(b)).length;
}
const result = {
  seconds,
  retry_wait_ms: retryWaitMs ?? "graphql-ws default",
  clients,
  subscribers,
  analyses: ids.length,
  requests: stats.requests,
  failed: stats.failed,
  failures: stats.failures,
  updates: stats.updates,
  acknowledged_updates: stats.acknowledged,
  acknowledged_updates_lost: lost,
  toasts_expected: subs.reduce((n, s) => n + expected[ids.indexOf(s.analysis)].size, 0),
  toasts_received: toasts,
  toasts_lost: missing(),
  toasts_twice: twice,
  toasts_unexpected: unexpected,
  subscriber_errors: subs.reduce((n, s) => n + (s.errors ?? 0), 0),
  reconnections,
  close_codes: closeCodes,
  refused_codes: refused,
  gave_up: subs.filter((s) => s.fatal).map((s) => s.fatal).slice(0, 5),
  gave_up_count: subs.filter((s) => s.fatal).length,
  longest_gap_ms: Math.max(0, ...subs.map((s) => s.longestGap)),
};
console.log(JSON.stringify(result));
for (const s of subs) s.client.dispose();
process.exit(0);
