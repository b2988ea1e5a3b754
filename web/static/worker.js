'use strict';
// kerascope's Web Worker: it runs the kerascope command, compiled to
// WebAssembly (GOOS=js, cmd/kerascope/main_js.go), away from the page, so
// that the page stays responsive however long a model takes.
//
// Files reach the program through the fs object wasm_exec.js looks for
// before it defines its own: an in-memory, read-only file system holding
// the files the page gave us. The program opens them by name exactly as the
// command line opens files on disk.
//
// Messages in:  {id, op: 'put', path, data}  store a file (data: ArrayBuffer)
//               {id, op: 'run', args}        run a command line
//               {id, op: 'config', path}     the model's config JSON
// Messages out: {type: 'progress', loaded, total}, {type: 'ready', ms},
//               {type: 'failed', message}, {type: 'exited'}, {id, result}.

const files = new Map(); // path -> Uint8Array
const open = new Map(); // fd -> {data, pos}
let nextFD = 3;

function fsError(code) {
	const e = new Error(code);
	e.code = code;
	return e;
}

function stat(data) {
	return {
		dev: 0, ino: 0, mode: 0o100444, nlink: 1, uid: 0, gid: 0, rdev: 0,
		size: data.length, blksize: 4096, blocks: Math.ceil(data.length / 512),
		atimeMs: 0, mtimeMs: 0, ctimeMs: 0,
		isDirectory() { return false; },
	};
}

let console_ = '';
const decoder = new TextDecoder('utf-8');

globalThis.process = {
	getuid() { return -1; }, getgid() { return -1; }, geteuid() { return -1; }, getegid() { return -1; },
	getgroups() { throw fsError('ENOSYS'); },
	pid: -1, ppid: -1,
	umask() { throw fsError('ENOSYS'); },
	cwd() { return '/'; },
	chdir() { throw fsError('ENOSYS'); },
};

globalThis.fs = {
	constants: { O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_TRUNC: 512, O_APPEND: 1024, O_EXCL: 128, O_DIRECTORY: 65536 },
	// What the program writes to its own stdout and stderr (a panic's
	// trace) goes to the console; commands write into buffers.
	writeSync(fd, buf) {
		console_ += decoder.decode(buf);
		const nl = console_.lastIndexOf('\n');
		if (nl !== -1) {
			console.log(console_.substring(0, nl));
			console_ = console_.substring(nl + 1);
		}
		return buf.length;
	},
	write(fd, buf, offset, length, position, callback) {
		if (fd !== 1 && fd !== 2) {
			callback(fsError('EBADF'));
			return;
		}
		callback(null, this.writeSync(fd, buf.subarray(offset, offset + length)));
	},
	open(path, flags, mode, callback) {
		if (flags & (1 | 2 | 64 | 512 | 1024)) {
			callback(fsError('EROFS'));
			return;
		}
		const data = files.get(path);
		if (!data) {
			callback(fsError('ENOENT'));
			return;
		}
		const fd = nextFD++;
		open.set(fd, { data, pos: 0 });
		callback(null, fd);
	},
	read(fd, buf, offset, length, position, callback) {
		const f = open.get(fd);
		if (!f) {
			callback(fsError('EBADF'));
			return;
		}
		const at = position === null ? f.pos : position;
		const n = Math.max(0, Math.min(length, f.data.length - at));
		buf.set(f.data.subarray(at, at + n), offset);
		if (position === null) f.pos += n;
		callback(null, n);
	},
	fstat(fd, callback) {
		const f = open.get(fd);
		if (!f) callback(fsError('EBADF'));
		else callback(null, stat(f.data));
	},
	stat(path, callback) {
		const data = files.get(path);
		if (!data) callback(fsError('ENOENT'));
		else callback(null, stat(data));
	},
	lstat(path, callback) { this.stat(path, callback); },
	close(fd, callback) {
		open.delete(fd);
		callback(null);
	},
	fsync(fd, callback) { callback(null); },
	readdir(path, callback) { callback(fsError('ENOTDIR')); },
};
for (const name of ['chmod', 'chown', 'fchmod', 'fchown', 'ftruncate', 'lchown', 'link', 'mkdir',
	'readlink', 'rename', 'rmdir', 'symlink', 'truncate', 'unlink', 'utimes']) {
	globalThis.fs[name] = (...args) => args[args.length - 1](fsError('EROFS'));
}

importScripts('wasm_exec.js');

// start fetches the gzipped bundle, counting its bytes for the page's
// progress bar, inflates it as it arrives (DecompressionStream: a static
// host need not know about gzip) and starts the program.
async function start() {
	const t0 = performance.now();
	const resp = await fetch('kerascope.wasm.gz');
	if (!resp.ok) throw new Error(`kerascope.wasm.gz: ${resp.status} ${resp.statusText}`);
	const total = Number(resp.headers.get('Content-Length')) || 0;
	let loaded = 0;
	const count = new TransformStream({
		transform(chunk, ctl) {
			loaded += chunk.length;
			postMessage({ type: 'progress', loaded, total });
			ctl.enqueue(chunk);
		},
	});
	const wasm = new Response(resp.body.pipeThrough(count).pipeThrough(new DecompressionStream('gzip')),
		{ headers: { 'Content-Type': 'application/wasm' } });
	const go = new Go();
	const { instance } = await WebAssembly.instantiateStreaming(wasm, go.importObject);
	go.run(instance).then(() => postMessage({ type: 'exited' }));
	if (typeof globalThis.kerascope !== 'function') throw new Error('kerascope.wasm did not start');
	postMessage({ type: 'ready', ms: Math.round(performance.now() - t0) });
}

const started = start().catch((e) => {
	postMessage({ type: 'failed', message: String(e.message || e) });
	throw e;
});

onmessage = async (ev) => {
	const m = ev.data;
	try {
		await started;
		let result;
		switch (m.op) {
		case 'put':
			files.set(m.path, new Uint8Array(m.data));
			result = { code: 0 };
			break;
		case 'drop':
			files.delete(m.path);
			result = { code: 0 };
			break;
		case 'run': {
			const t0 = performance.now();
			result = await globalThis.kerascope(m.args);
			result = { code: result.code, stdout: result.stdout, stderr: result.stderr, ms: performance.now() - t0 };
			break;
		}
		case 'config':
			result = await globalThis.modelConfig(m.path);
			result = { code: result.code, config: result.config, stderr: result.stderr };
			break;
		default:
			throw new Error(`unknown op ${m.op}`);
		}
		postMessage({ id: m.id, result }, result.stdout ? [result.stdout.buffer] : []);
	} catch (e) {
		postMessage({ id: m.id, error: String(e.message || e) });
	}
};
