// Persisted queries through Apollo Client's own PersistedQueryLink. Run by tests/api/apollo.rs
// with API_URL and API_TOKEN set, and MODE:
// - "apq": the first request sends only the hash and misses, the link sends the document once,
//   and every later request sends only the hash (as a GET a CDN can cache);
// - "manifest": prints the trusted-documents manifest of LISTED, as this client sends it
//   (Apollo's cache adds __typename, so the manifest holds the documents as sent);
// - "trusted": against a server with that manifest, LISTED runs by its hash alone and an
//   unlisted document is refused with PERSISTED_QUERY_ONLY.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { print } from "graphql";

const api = process.env.API_URL;
const mode = process.env.MODE;
assert.ok(api && mode, "API_URL and MODE must be set");
const headers = process.env.API_TOKEN ? { authorization: `Bearer ${process.env.API_TOKEN}` } : {};
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

const LISTED = gql`
  query Catalog {
    badgeCatalog { id slug name points }
  }
`;
const UNLISTED = gql`
  query Names {
    badgeCatalog { id name }
  }
`;

// every request the client sends: method, whether it carried the document, and the answer
const sent = [];
async function recordingFetch(url, init) {
  const method = init?.method ?? "GET";
  const body = init?.body ? JSON.parse(init.body) : null;
  const params = new URL(url).searchParams;
  const hasDocument = Boolean(body?.query ?? params.get("query"));
  const extensions = body?.extensions ?? JSON.parse(params.get("extensions") ?? "{}");
  const response = await fetch(url, init);
  const copy = await response.clone().json();
  sent.push({
    method,
    hasDocument,
    hash: extensions.persistedQuery?.sha256Hash ?? null,
    status: response.status,
    code: copy.errors?.[0]?.extensions?.code ?? "ok",
  });
  return response;
}

const cache = new InMemoryCache();
const client = new ApolloClient({
  link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
    new HttpLink({ uri: `${api}/graphql`, headers, fetch: recordingFetch }),
  ),
  cache,
});

async function code(operation) {
  try {
    await operation();
  } catch (e) {
    assert.ok(CombinedGraphQLErrors.is(e), `expected GraphQL errors, got ${e}`);
    return e.errors[0].extensions.code;
  }
  assert.fail("expected an error");
}

const run = (query) => client.query({ query, fetchPolicy: "network-only" });

if (mode === "manifest") {
  const body = print(cache.transformDocument(LISTED));
  const operations = [{ id: sha256(body), name: "Catalog", type: "query", body }];
  console.log(JSON.stringify({ format: "apollo-persisted-query-manifest", version: 1, operations }));
} else if (mode === "apq") {
  const hash = sha256(print(cache.transformDocument(LISTED)));
  for (let i = 0; i < 3; i++) {
    const { data } = await run(LISTED);
    assert.equal(data.badgeCatalog[0].slug, "first_step");
  }
  const expected = [
    { method: "GET", hasDocument: false, hash, status: 200, code: "PERSISTED_QUERY_NOT_FOUND" },
    { method: "POST", hasDocument: true, hash, status: 200, code: "ok" },
    { method: "GET", hasDocument: false, hash, status: 200, code: "ok" },
    { method: "GET", hasDocument: false, hash, status: 200, code: "ok" },
  ];
  assert.deepEqual(sent, expected);
  console.log("miss and register once, then the hash alone:", JSON.stringify(sent.map((s) => `${s.method} ${s.code}`)));
  console.log("apq ok");
} else if (mode === "trusted") {
  const { data } = await run(LISTED);
  assert.equal(data.badgeCatalog[0].slug, "first_step");
  assert.deepEqual(sent.map((s) => [s.method, s.hasDocument, s.code]), [["GET", false, "ok"]]);
  assert.equal(await code(() => run(UNLISTED)), "PERSISTED_QUERY_ONLY");
  // and sent without the link, as plain text, likewise
  const plain = new ApolloClient({ link: new HttpLink({ uri: `${api}/graphql`, headers }), cache: new InMemoryCache() });
  assert.equal(
    await code(() => plain.query({ query: UNLISTED, fetchPolicy: "network-only" })),
    "PERSISTED_QUERY_ONLY",
  );
  console.log("trusted ok");
} else {
  assert.fail(`unknown MODE ${mode}`);
}
