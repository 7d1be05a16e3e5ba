import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, 'kafka.sh');

/** Runs bash with kafka.sh's functions loaded (KAFKA_SH_LIBRARY=1), for one port pair. */
function kafkaSh(
  port: number,
  dir: string,
  body: string,
): { status: number | null; out: string; err: string } {
  const result = spawnSync('bash', ['-c', `KAFKA_SH_LIBRARY=1 . ${JSON.stringify(SCRIPT)}\n${body}`], {
    env: { ...process.env, KAFKA_PORT: String(port), NRM_KAFKA_DIR: dir },
    encoding: 'utf8',
  });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

describe('scripts/kafka.sh knows whose broker answers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nrm-kafka-sh-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('tells a port its own process holds from one another process holds, and names the other', async () => {
    // Another "broker": a process of its own listening on the broker port.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    // A stand-in for our broker that did start but could not bind: a process holding no port.
    const ours = spawn('sleep', ['30']);
    try {
      expect(kafkaSh(port, dir, `holds_port ${process.pid} ${port}`).status).toBe(0);
      expect(kafkaSh(port, dir, `holds_port ${ours.pid} ${port}`).status).toBe(1);
      const foreign = kafkaSh(port, dir, `foreign_ports ${ours.pid}`);
      expect(foreign.out).toContain(`127.0.0.1:${port} answers, but from pid ${process.pid} (node `);
      expect(foreign.out).toContain(`not from the broker started (pid ${ours.pid})`);
      const own = kafkaSh(port, dir, `foreign_ports ${process.pid}`);
      expect([own.status, own.out]).toEqual([0, '']);
      console.log('kafka.sh ports: foreign broker refused 1 of 1, own broker accepted 1 of 1');
    } finally {
      ours.kill();
      server.close();
    }
  });
});
