#!/usr/bin/env bash
# Bundles the playground (GraphiQL, React, graphql-ws, Monaco's workers) from the npm registry at
# the versions pinned in playground/bundle/package-lock.json into playground/vendor/, with
# Swagger UI's own bundle for /api/v1/docs beside it; vendor/ is committed and embedded in the
# binary. Run it again only to change a version.
set -euo pipefail
cd "$(dirname "$0")/../playground/bundle"
command -v npm >/dev/null || bash ../../scripts/ensure-node.sh
npm ci --no-audit --no-fund --loglevel=error
out=../vendor
rm -rf "$out" && mkdir -p "$out"
esbuild=node_modules/.bin/esbuild
common=(--bundle --minify --format=esm --target=es2022 --legal-comments=none --log-level=warning
    --define:process.env.NODE_ENV='"production"')
"$esbuild" main.jsx "${common[@]}" --outfile="$out/playground.js" \
    --loader:.ttf=file --asset-names='[name]' --jsx=automatic
"$esbuild" node_modules/monaco-editor/esm/vs/editor/editor.worker.js "${common[@]}" --outfile="$out/editor.worker.js"
"$esbuild" node_modules/monaco-editor/esm/vs/language/json/json.worker.js "${common[@]}" --outfile="$out/json.worker.js"
"$esbuild" node_modules/monaco-graphql/esm/graphql.worker.js "${common[@]}" --outfile="$out/graphql.worker.js"
# Swagger UI ships a browser bundle of its own: copied as it is
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css "$out/"
# what was bundled, and under which licences
node -e '
const lock = require("./package-lock.json");
const rows = Object.entries(lock.packages)
  .filter(([p, m]) => p && !m.dev)
  .map(([p, m]) => `${p.replace(/^.*node_modules\//, "")}\t${m.version}\t${m.license || "?"}`)
  .sort();
console.log("package\tversion\tlicence\n" + rows.join("\n"));
' > "$out/PACKAGES.tsv"
# committed and embedded gzipped (-n: no name or time, so the same input gives the same bytes)
gzip -9 -n "$out"/*.js "$out"/*.css "$out"/*.ttf
ls -l "$out"
