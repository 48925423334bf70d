// The playground: GraphiQL with one tab per example operation, queries and mutations over HTTP,
// subscriptions over WebSocket (graphql-ws), all from this server's own origin. Bundled by
// scripts/vendor-playground.sh into playground/vendor; index.html loads it.
import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { createClient } from "graphql-ws";
import { parse } from "graphql";
import "graphiql/style.css";

// Monaco runs its language services in workers, bundled beside this file (same origin, so the
// page's CSP allows them).
globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    const name = label === "graphql" ? "graphql" : label === "json" ? "json" : "editor";
    return new Worker(new URL(`./${name}.worker.js`, import.meta.url), { type: "module" });
  },
};

// With AUTH_MODE=jwt, open /?token=<jwt>: every tab's headers editor starts with it (edit it
// there for HTTP), and subscriptions send it in connection_init.
const url = new URL("/graphql", window.location.href).toString();
const token = new URLSearchParams(window.location.search).get("token");
const authorization = token ? `Bearer ${token}` : null;
const headers = authorization ? JSON.stringify({ authorization }, null, 2) : undefined;

const examples = JSON.parse(document.getElementById("examples").textContent);
const tabs = examples.map((e) => ({
  query: e.query,
  variables: e.variables ? JSON.stringify(e.variables, null, 2) : undefined,
  headers,
}));
const send = createGraphiQLFetcher({
  url,
  wsClient: createClient({
    url: url.replace(/^http/, "ws"),
    connectionParams: authorization ? { authorization } : {},
  }),
});

// GraphiQL reads the document's facts (its operations, the one to run, whether it is a
// subscription) a moment after a tab switch; run at once, it still has the previous tab's. They
// are read here from the document sent.
const fetcher = (params, options) => {
  let documentAST;
  try {
    documentAST = parse(params.query);
  } catch {
    return send(params, options); // the server reports the syntax error
  }
  const names = documentAST.definitions
    .filter((d) => d.kind === "OperationDefinition")
    .map((d) => d.name?.value ?? null);
  const operationName = names.includes(params.operationName) ? params.operationName : names[0] ?? undefined;
  return send({ ...params, operationName }, { ...options, documentAST });
};

// GraphiQL 5 fills the editors of the tab it opens on from `initialQuery`, `initialVariables` and
// `initialHeaders`, not from that tab (so the first tab ran with no variables), and restores its
// tabs from localStorage on a reload, with the headers left out (so no token). Its state is kept
// in this page's memory instead: every load opens the examples as they are, each ready to run.
const memory = new Map();
const storage = {
  getItem: (key) => (memory.has(key) ? memory.get(key) : null),
  setItem: (key, value) => memory.set(key, String(value)),
  removeItem: (key) => memory.delete(key),
  clear: () => memory.clear(),
  get length() {
    return memory.size;
  },
};

createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    storage,
    defaultTabs: tabs,
    initialQuery: tabs[0]?.query,
    initialVariables: tabs[0]?.variables,
    initialHeaders: headers,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: false,
    isHeadersEditorEnabled: true,
    defaultHeaders: headers,
  }),
);
