'use strict';
// Container health check of the nrm-ledger image: GET http://127.0.0.1:<port>/health, exit 0 on 200.
// <port> is the first argument, else PORT (the api's), else 3000. The apps listen on HOST=0.0.0.0.
const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) }).then(
  (response) => process.exit(response.status === 200 ? 0 : 1),
  () => process.exit(1),
);
