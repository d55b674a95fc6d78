// The limit the collector benchmark compares against: a bare node:http server that reads the
// body and answers 200, on the same machine, driven by the same load generator.
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '12' });
    res.end('{"stored":1}');
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`collecting on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
