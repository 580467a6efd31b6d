// hello.js PORT -- the bench's node hello world.  Answers every request
// with "hello from pid P" on keep-alive connections.
//
// Its socket: fd 3 when LISTEN_FDS is meant for it (pmc without the
// shim, rawparent: the one change systemd socket activation needs),
// else server.listen(PORT) as any node app does (single process, pm2,
// and pmc with intercept_bind, where the shim hands it pmc's socket;
// BENCH_PLAIN=1 makes it ignore LISTEN_FDS for that case).
// BENCH_WORKERS=N: a Node cluster primary with N workers
// (NODE_CLUSTER_SCHED_POLICY=rr|none picks the scheduling).
//
// SIGTERM or SIGINT drains: stop accepting, answer each connection's
// next request with "Connection: close", exit once none is open (3 s
// at most) -- what lets a rolling reload drop nothing.  BENCH_NAIVE=1
// leaves the signals alone, as most apps do: node's default, die at
// once with the connections open (the "naive" rows of make bench; the
// draining lines for each runtime are in pm.yaml(5), "Draining on stop").
//
// BENCH_COUNTS=DIR: each process that answers (a cluster's workers, not
// its primary) writes "PID COUNT", the requests it answered, to DIR/PID
// as it exits, so that the bench counts the share of each instance
// without trusting its client.  A naive one writes it on the signal,
// then dies of that signal as it would have.
'use strict';
const cluster = require('cluster');
const fs = require('fs');
const http = require('http');

const port = Number(process.argv[2]);
const workers = Number(process.env.BENCH_WORKERS || 0);

if (workers > 0 && cluster.isPrimary) {
	for (let i = 0; i < workers; i++)
		cluster.fork();
	const stop = (sig) => {
		for (const id in cluster.workers)
			cluster.workers[id].process.kill(sig);
		setTimeout(() => process.exit(0), 3000).unref();
		cluster.on('exit', () => {
			if (Object.keys(cluster.workers).length === 0)
				process.exit(0);
		});
	};
	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGTERM'));
} else {
	const body = `hello from pid ${process.pid}\n`;
	const counts = process.env.BENCH_COUNTS;
	let draining = false, answered = 0;
	const server = http.createServer((req, res) => {
		answered++;
		if (draining)
			res.setHeader('Connection', 'close');
		res.end(body);
	});
	// Idle keep-alive connections stay until their next request: closing
	// one races with a request the client is sending on it.
	server.closeIdleConnections = () => {};
	const drain = () => {
		if (draining)
			return;
		draining = true;
		server.close(() => process.exit(0));
		setTimeout(() => process.exit(0), 3000).unref();
	};
	const count = () => {
		if (counts)
			fs.writeFileSync(`${counts}/${process.pid}`,
			    `${process.pid} ${answered}\n`);
	};
	if (!process.env.BENCH_NAIVE) {
		process.on('SIGTERM', drain);
		process.on('SIGINT', drain);
	} else if (counts) {
		const die = (sig) => {
			count();
			process.removeAllListeners(sig);
			process.kill(process.pid, sig);
		};
		process.on('SIGTERM', die);
		process.on('SIGINT', die);
	}
	process.on('exit', count);
	const fds = process.env.LISTEN_FDS !== undefined &&
	    Number(process.env.LISTEN_PID) === process.pid &&
	    !process.env.BENCH_PLAIN;
	server.listen(fds ? { fd: 3 } : port);
}
