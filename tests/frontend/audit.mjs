// The graphql-http package's own server audit (GraphQL over HTTP) against the running server.
// Prints every result; exits non-zero on any error or warning. Notices (MAY items) are listed
// and left to the README.
import { auditServer } from 'graphql-http';

const url = `${process.env.API_URL}/graphql`;
const results = await auditServer({ url });
let errors = 0;
let warnings = 0;
for (const r of results) {
  const level = r.status; // 'ok' | 'notice' | 'warn' | 'error'
  if (level === 'error') errors++;
  if (level === 'warn') warnings++;
  const detail = level === 'ok' ? '' : ` — ${r.reason}`;
  console.log(`${level.padEnd(6)} ${r.id} ${r.name}${detail}`);
}
const counts = results.reduce((m, r) => ({ ...m, [r.status]: (m[r.status] || 0) + 1 }), {});
console.log(`audit: ${JSON.stringify(counts)}`);
if (errors || warnings) {
  process.exit(1);
}
console.log('graphql-http audit ok');
