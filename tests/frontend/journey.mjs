// A new user's journey through the API with Apollo Client, as a front end would do it: record an
// analysis, read its dashboard, move opportunities through to the four progress badges, and meet
// the error codes on the way. Run by tests/api/apollo.rs with API_URL set to a live server.
import assert from "node:assert/strict";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { CombinedGraphQLErrors } from "@apollo/client/errors";

const api = process.env.API_URL;
assert.ok(api, "API_URL must point at a running server");

// API_TOKEN (AUTH_MODE=jwt): every request carries it, as a front end's auth link would.
const headers = process.env.API_TOKEN ? { authorization: `Bearer ${process.env.API_TOKEN}` } : {};
const client = new ApolloClient({
  link: new HttpLink({ uri: `${api}/graphql`, headers }),
  cache: new InMemoryCache(),
});

const DASHBOARD_FIELDS = gql`
  fragment DashboardFields on Dashboard {
    id
    analysisId
    identity { companyName }
    opportunities { id opportunityId status implementedAt }
    progressSummary { totalOpportunities notStarted inProgress implemented completionPercentage }
    badges { id badgeType name earnedAt }
    achievements { badge { id slug } unlocked progressPercentage nextMilestone }
    metrics {
      timeSaved { potentialWeekly implementedWeekly potentialAnnual implementedAnnual }
      moneySaved { hourlyRate potentialAnnual implementedAnnual currency }
    }
    recommendations { opportunity { id opportunityId } priorityScore reason }
  }
`;

const RECORD = gql`
  ${DASHBOARD_FIELDS}
  mutation Record($input: RecordAnalysisInput!) {
    recordAnalysis(input: $input) { duplicate dashboard { ...DashboardFields } }
  }
`;

const DASHBOARD = gql`
  ${DASHBOARD_FIELDS}
  query Dashboard($id: UUID!) { dashboard(analysisId: $id) { ...DashboardFields } }
`;

const UPDATE = gql`
  ${DASHBOARD_FIELDS}
  mutation Update($input: UpdateProgressInput!) {
    updateProgress(input: $input) {
      opportunity { id opportunityId status implementedAt }
      newBadges { id badgeType name rarity points }
      dashboard { ...DashboardFields }
    }
  }
`;

const url = `https://apollo-${Date.now()}.example.com`;
const recorded = await client.mutate({
  mutation: RECORD,
  variables: {
    input: {
      url,
      identity: { companyName: "Apollo Inc." },
      opportunities: [
        { opportunityId: "digital_presence", category: "DIGITAL_PRESENCE", hoursPerWeek: 5, hoursPerYear: 260, complexityLevel: 7 },
        { opportunityId: "value_creation", category: "VALUE_CREATION", hoursPerWeek: 8, hoursPerYear: 416, complexityLevel: 5 },
        { opportunityId: "business_management", category: "BUSINESS_MANAGEMENT", hoursPerWeek: 2, hoursPerYear: 104, complexityLevel: 3 },
      ],
    },
  },
});
const id = recorded.data.recordAnalysis.dashboard.analysisId;
assert.equal(recorded.data.recordAnalysis.duplicate, false);
console.log(`recorded ${id}`);

// Apollo's cache normalises the dashboard by its id.
assert.ok(client.cache.identify({ __typename: "Dashboard", id }));
const first = await client.query({ query: DASHBOARD, variables: { id }, fetchPolicy: "network-only" });
const d0 = first.data.dashboard;
assert.equal(d0.identity.companyName, "Apollo Inc.");
assert.deepEqual(d0.recommendations.map((r) => r.opportunity.opportunityId), ["value_creation", "digital_presence", "business_management"]);
assert.equal(d0.metrics.timeSaved.potentialWeekly, 15);
assert.equal(d0.metrics.moneySaved.potentialAnnual, null);

async function move(opportunityId, status, hourlyRate) {
  const r = await client.mutate({ mutation: UPDATE, variables: { input: { analysisId: id, opportunityId, status, hourlyRate } } });
  const p = r.data.updateProgress;
  assert.equal(p.opportunity.status, status);
  // The cached dashboard follows the mutation with no refetch.
  const cached = client.readQuery({ query: DASHBOARD, variables: { id } });
  assert.deepEqual(cached.dashboard.progressSummary, p.dashboard.progressSummary);
  return p.newBadges.map((b) => b.badgeType);
}

assert.deepEqual(await move("business_management", "IN_PROGRESS"), ["first_step"]);
assert.deepEqual(await move("business_management", "IMPLEMENTED"), ["quick_win"]);
assert.deepEqual(await move("digital_presence", "IMPLEMENTED", 50), []);
assert.deepEqual(await move("value_creation", "IMPLEMENTED"), ["time_saver", "efficiency_expert"]);
console.log("earned the four progress badges");

const done = client.readQuery({ query: DASHBOARD, variables: { id } }).dashboard;
assert.equal(done.progressSummary.completionPercentage, 100);
assert.equal(done.metrics.timeSaved.implementedWeekly, 15);
assert.equal(done.metrics.moneySaved.implementedAnnual, 39000);
assert.deepEqual(done.badges.map((b) => b.badgeType), ["first_step", "quick_win", "time_saver", "efficiency_expert"]);
assert.deepEqual(done.recommendations, []);
const streak = done.achievements.find((a) => a.badge.slug === "streak_master");
assert.equal(streak.unlocked, false);
// in the analysis' language, French by default
assert.match(streak.nextMilestone, /jours d'affilée/);

async function code(operation) {
  try {
    await operation();
  } catch (e) {
    assert.ok(CombinedGraphQLErrors.is(e), `expected GraphQL errors, got ${e}`);
    assert.ok(e.errors[0].extensions.requestId, "every error has a request id");
    return e.errors[0].extensions.code;
  }
  assert.fail("expected an error");
}

assert.equal(await code(() => move("value_creation", "IN_PROGRESS")), "INVALID_STATUS_TRANSITION");
assert.equal(await code(() => move("nope", "IMPLEMENTED")), "OPPORTUNITY_NOT_FOUND");
assert.equal(await code(() => move("value_creation", "IMPLEMENTED", 5)), "INVALID_INPUT");
assert.equal(
  await code(() => client.query({ query: DASHBOARD, variables: { id: "00000000-0000-4000-8000-000000000000" }, fetchPolicy: "network-only" })),
  "ANALYSIS_NOT_FOUND",
);
assert.equal(
  await code(() => client.query({ query: DASHBOARD, variables: { id: "not-a-uuid" }, fetchPolicy: "network-only" })),
  "INVALID_INPUT",
);
console.log("error codes as the contract says");
console.log("apollo journey ok");
