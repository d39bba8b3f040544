/**
 * The benchmark's baseline: a bare single-process `node:http` server that reads the request body
 * (as any real handler must) and answers a fixed small JSON body with the same content type
 * Keyhold uses. Run by bench/run.ts as its own process:
 *
 *   node dist/bench/bare-server.js [--port N] [--host H]
 *
 * Prints one JSON line {"msg":"bare ready","port":N} once listening; SIGTERM stops it.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
  strict: true,
});

const BODY = Buffer.from('{"KeyId":"bare","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}');
const HEADERS = {
  'Content-Type': 'application/x-amz-json-1.1',
  'Content-Length': String(BODY.length),
};

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
});

server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : Number(values.port);
  process.stdout.write(JSON.stringify({ msg: 'bare ready', pid: process.pid, port }) + '\n');
});

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
