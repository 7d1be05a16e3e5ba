// The baseline of the command and query benchmarks: a bare Fastify route answering a constant,
// in its own process like the ledger, so that the load tool never shares its event loop.
const Fastify = require('fastify');

const app = Fastify();
app.post('/cases', async () => ({ ok: true }));
app.get('/cases/:id', async () => ({ ok: true }));
app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' }).then(() => {
  process.stdout.write(`listening ${app.server.address().port}\n`);
});
