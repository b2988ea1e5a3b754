'use strict';
// kerascope's page: every view is the output of a kerascope command run
// by worker.js, so its text and its error lines are the command line's.
// The page only reads files, passes them on and shows what comes back.

// MAX_FILE is the largest model or input file the page accepts: the file
// is held in the worker's memory and read again by the program, inside the
// 4 GiB a 32-bit WebAssembly memory can address.
const MAX_FILE = 256 * 1024 * 1024;

const $ = (id) => document.getElementById(id);
const state = {
	model: null, // {name, path, example}
	inputs: [], // paths of dropped predict inputs
	cache: new Map(), // command line -> result
	selected: null,
	prediction: null,
};

// ---- the worker ----------------------------------------------------------

let worker = null;
let nextID = 1;
const pending = new Map();
let workerReady = null;

function startWorker() {
	worker = new Worker('worker.js');
	workerReady = new Promise((resolve, reject) => {
		worker.onmessage = (ev) => {
			const m = ev.data;
			if (m.type === 'progress') {
				showProgress('loading kerascope', m.loaded, m.total);
			} else if (m.type === 'ready') {
				document.body.dataset.loadMs = m.ms;
				done(`kerascope loaded in ${m.ms} ms`);
				resolve();
			} else if (m.type === 'failed') {
				showError(`kerascope: error: ${m.message}`);
				reject(new Error(m.message));
			} else if (m.type === 'exited') {
				// The program ended (it never should): the next request
				// starts a fresh one with the files given again.
				for (const p of pending.values()) p.reject(new Error('kerascope: error: the WebAssembly program stopped'));
				pending.clear();
				worker.terminate();
				worker = null;
			} else if (pending.has(m.id)) {
				const p = pending.get(m.id);
				pending.delete(m.id);
				if (m.error) p.reject(new Error(m.error));
				else p.resolve(m.result);
			}
		};
		worker.onerror = (e) => {
			showError(`kerascope: error: ${e.message || 'the worker failed'}`);
			reject(new Error(e.message));
		};
	});
	return workerReady;
}

async function call(msg, transfer) {
	if (!worker) {
		await startWorker();
		for (const [path, data] of files) await call({ op: 'put', path, data: data.slice(0) });
	}
	await workerReady;
	const id = nextID++;
	return new Promise((resolve, reject) => {
		pending.set(id, { resolve, reject });
		worker.postMessage({ ...msg, id }, transfer || []);
	});
}

// files keeps what the worker was given, to give it again after a restart.
const files = new Map();

async function put(path, data) {
	files.set(path, data);
	await call({ op: 'put', path, data: data.slice(0) });
}

// kerascope runs a command line and caches its result: a view shown
// again, or the same option toggled back, costs nothing.
async function kerascope(args) {
	const key = JSON.stringify(args);
	if (state.cache.has(key)) return state.cache.get(key);
	busy(`kerascope ${args.join(' ')}`);
	const r = await call({ op: 'run', args });
	done(`kerascope ${args.join(' ')}: ${Math.round(r.ms)} ms`);
	document.body.dataset.lastMs = r.ms.toFixed(1);
	r.text = new TextDecoder().decode(r.stdout);
	state.cache.set(key, r);
	return r;
}

// ---- status, progress, errors ----------------------------------------------

function busy(text) {
	$('progress').hidden = false;
	$('progress').removeAttribute('value');
	$('status-text').textContent = text + ' …';
	document.body.dataset.busy = '1';
}

function showProgress(text, loaded, total) {
	$('progress').hidden = false;
	if (total > 0) {
		$('progress').max = total;
		$('progress').value = loaded;
	}
	$('status-text').textContent = `${text}: ${mib(loaded)}${total ? ' of ' + mib(total) : ''}`;
}

function done(text) {
	$('progress').hidden = true;
	$('status-text').textContent = text;
	delete document.body.dataset.busy;
}

function mib(n) { return (n / 1048576).toFixed(1) + ' MiB'; }

// showError shows the command's error as the command line prints it: one
// line (a usage error's hint about --help is the command line's, not the
// page's, and is left out).
function showError(stderr) {
	const line = (stderr || '').split('\n').find((l) => l.startsWith('kerascope: error:')) ||
		(stderr || '').split('\n')[0];
	$('error').textContent = line;
	$('error').hidden = !line;
	done('');
}

function clearError() {
	$('error').hidden = true;
	$('error').textContent = '';
}

// result shows a failed command's error line and returns null, or
// returns the result.
function ok(r) {
	if (r.code !== 0) {
		showError(r.stderr);
		return null;
	}
	clearError();
	return r;
}

// ---- opening a model -------------------------------------------------------

// readFile reads a File into memory with a progress bar, refusing one over
// MAX_FILE before reading a byte of it.
async function readFile(file) {
	if (file.size > MAX_FILE) {
		throw new Error(`kerascope: error: ${file.name}: ${mib(file.size)} is larger than the page's limit of ${mib(MAX_FILE)}; use the kerascope command`);
	}
	const data = new Uint8Array(file.size);
	const reader = file.stream().getReader();
	let at = 0;
	for (;;) {
		const { done: end, value } = await reader.read();
		if (end) break;
		data.set(value.subarray(0, Math.max(0, Math.min(value.length, data.length - at))), at);
		at += value.length;
		showProgress(`reading ${file.name}`, at, file.size);
	}
	return data.buffer;
}

// pathOf is the name the program sees: the file's own name, so that
// messages read as they do on the command line in the file's directory.
function pathOf(name) {
	return name.startsWith('-') ? './' + name : name;
}

async function openModel(name, data, example) {
	const path = pathOf(name);
	// The previous model and inputs go: the worker holds one model.
	for (const old of [state.model && state.model.path, ...state.inputs]) {
		if (old && old !== path && files.delete(old)) await call({ op: 'drop', path: old });
	}
	state.inputs = [];
	state.prediction = null;
	$('predict').textContent = '';
	$('predict-download').disabled = true;
	state.model = { name, path, example };
	state.cache.clear();
	state.selected = null;
	await put(path, data);
	$('model-name').textContent = name;
	$('example-input').hidden = !example;
	for (const b of document.querySelectorAll('#tabs button')) b.disabled = false;
	await show('summary');
}

async function openFile(file) {
	clearError();
	try {
		await openModel(file.name, await readFile(file), null);
	} catch (e) {
		showError(e.message);
	}
	opened();
}

// opened counts the files opened, done or failed, for tests to wait on.
function opened() {
	document.body.dataset.opened = Number(document.body.dataset.opened || 0) + 1;
}

async function openExample(name) {
	clearError();
	try {
		busy(`loading the example ${name}`);
		const resp = await fetch(`examples/${name}.keras`);
		if (!resp.ok) throw new Error(`kerascope: error: examples/${name}.keras: ${resp.status}`);
		await openModel(`${name}.keras`, await resp.arrayBuffer(), name);
		await show('units');
	} catch (e) {
		showError(e.message);
	}
	opened();
}

// ---- views -----------------------------------------------------------------

async function show(view) {
	for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.view === view);
	for (const s of document.querySelectorAll('.view')) s.classList.toggle('active', s.id === 'view-' + view);
	document.body.dataset.view = view;
	if (state.model && view !== 'open') {
		try {
			await ({ summary: showSummary, graph: showGraph, units: showUnits, check: showCheck, predict: async () => {} })[view]();
		} catch (e) {
			showError(e.message);
		}
	}
	document.body.dataset.shown = view;
}

async function showSummary() {
	const args = ['summary'];
	const style = document.querySelector('input[name=style]:checked').value;
	if (style) args.push('--style', style);
	if ($('expand-nested').checked) args.push('--expand-nested');
	if ($('show-trainable').checked) args.push('--show-trainable');
	const r = ok(await kerascope([...args, '--', state.model.path]));
	$('summary').textContent = r ? r.text : '';
}

async function showGraph() {
	const args = ['graph', '--format', 'svg'];
	if ($('expand-nested').checked) args.push('--expand-nested');
	const r = ok(await kerascope([...args, '--', state.model.path]));
	drawSVG($('graph'), r ? r.text : '');
	if (r && state.selected) selectLayer(state.selected);
}

async function showUnits() {
	const args = ['graph', '--units', '--format', 'svg'];
	if ($('unroll').checked) args.push('--unroll');
	const r = ok(await kerascope([...args, '--', state.model.path]));
	const svg = drawSVG($('units'), r ? r.text : '');
	$('units-count').textContent = '';
	if (svg) {
		const n = (kind) => svg.querySelectorAll(`.edge[data-kind="${kind}"]`).length;
		const w = n('weight'), rec = n('recurrent'), b = n('bias');
		$('units-count').textContent = `${w} weights + ${rec} recurrent weights + ${b} biases = ${w + rec + b} parameters`;
	}
}

async function showCheck() {
	const text = await kerascope(['check', '--', state.model.path]);
	const js = await kerascope(['check', '--json', '--', state.model.path]);
	// A failed check exits 1 with its report on stdout: that is a report,
	// not an error; an error has no report.
	if (!text.text) {
		showError(text.stderr);
		$('check').textContent = '';
		$('problems').replaceChildren();
		return;
	}
	clearError();
	$('check').textContent = text.text;
	const list = $('problems');
	list.replaceChildren();
	let report = null;
	try { report = JSON.parse(js.text); } catch (e) { report = null; }
	for (const p of (report && report.problems) || []) {
		const li = document.createElement('li');
		li.textContent = `${p.severity} (${p.kind}) `;
		if (p.layer) {
			const a = document.createElement('a');
			a.textContent = p.layer;
			a.dataset.layer = p.layer;
			a.onclick = async () => {
				state.selected = p.layer;
				await show('graph');
			};
			li.append(a, ': ');
		}
		li.append(p.message);
		list.append(li);
	}
}

// ---- SVG, pan and zoom -------------------------------------------------

function drawSVG(box, text) {
	box.replaceChildren();
	if (!text) return null;
	const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
	const svg = doc.documentElement;
	if (svg.nodeName !== 'svg') return null;
	svg.removeAttribute('width');
	svg.removeAttribute('height');
	const adopted = document.importNode(svg, true);
	box.append(adopted);
	panZoom(box, adopted);
	return adopted;
}

function panZoom(box, svg) {
	// Fit the picture, but never draw it larger than its own size: a
	// two-layer model would fill the screen with two boxes.
	const nat = svg.getAttribute('viewBox').split(/\s+/).map(Number);
	const r0 = box.getBoundingClientRect();
	const k0 = Math.max(nat[2] / (r0.width || 1), nat[3] / (r0.height || 1), 1);
	const w0 = (r0.width || nat[2]) * k0, h0 = (r0.height || nat[3]) * k0;
	const vb0 = [nat[0] - (w0 - nat[2]) / 2, nat[1] - (h0 - nat[3]) / 2, w0, h0];
	let vb = vb0.slice();
	const set = () => svg.setAttribute('viewBox', vb.join(' '));
	set();
	box.fit = () => { vb = vb0.slice(); set(); };
	svg.addEventListener('wheel', (e) => {
		e.preventDefault();
		const r = svg.getBoundingClientRect();
		const k = Math.exp(e.deltaY * 0.0015);
		const scale = Math.max(vb[2] / r.width, vb[3] / r.height);
		// The point under the cursor stays where it is.
		const px = vb[0] + (e.clientX - r.left - (r.width - vb[2] / scale) / 2) * scale;
		const py = vb[1] + (e.clientY - r.top - (r.height - vb[3] / scale) / 2) * scale;
		vb = [px - (px - vb[0]) * k, py - (py - vb[1]) * k, vb[2] * k, vb[3] * k];
		set();
	}, { passive: false });
	let drag = null;
	svg.addEventListener('pointerdown', (e) => {
		drag = { x: e.clientX, y: e.clientY, vb: vb.slice(), moved: false };
	});
	svg.addEventListener('pointermove', (e) => {
		if (!drag) return;
		const r = svg.getBoundingClientRect();
		const scale = Math.max(vb[2] / r.width, vb[3] / r.height);
		const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
		if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
		vb = [drag.vb[0] - dx * scale, drag.vb[1] - dy * scale, vb[2], vb[3]];
		set();
	});
	svg.addEventListener('pointerup', (e) => {
		const d = drag;
		drag = null;
		if (d && !d.moved) {
			const node = e.target.closest('.node');
			if (node && box.id === 'graph' && node.dataset.layer) selectLayer(node.dataset.layer);
		}
	});
}

// ---- the layer panel ---------------------------------------------------

function findLayer(config, name) {
	// Keras 3 and Keras 2 configs both list layers as {class_name, config:
	// {name, ...}}, nested models holding layers of their own.
	let found = null;
	const walk = (v) => {
		if (found || v === null || typeof v !== 'object') return;
		if (Array.isArray(v)) { v.forEach(walk); return; }
		if (v.class_name && v.config && (v.config.name === name || v.name === name) && !Array.isArray(v.config.layers)) {
			found = v;
			return;
		}
		Object.values(v).forEach(walk);
	};
	walk(config);
	return found;
}

function el(tag, text, attrs) {
	const e = document.createElement(tag);
	if (text !== undefined) e.textContent = text;
	Object.assign(e, attrs || {});
	return e;
}

function fmt(v) {
	if (typeof v !== 'number') return String(v);
	return Number.isInteger(v) ? String(v) : v.toPrecision(6);
}

function shape(s) { return '(' + s.map((d) => (d === null ? 'None' : d)).join(', ') + (s.length === 1 ? ',)' : ')'); }

async function selectLayer(name) {
	state.selected = name;
	for (const n of document.querySelectorAll('#graph .node')) n.classList.toggle('selected', n.dataset.layer === name);
	const panel = $('layer');
	panel.replaceChildren(el('h3', name));
	const path = state.model.path;
	const [sum, weights, explain] = await Promise.all([
		kerascope(['summary', '--json', '--', path]),
		kerascope(['weights', '--json', '--', path]),
		kerascope(['explain', '--json', '--', path]),
	]);
	const cfg = await call({ op: 'config', path });
	const parse = (r) => { try { return r.code === 0 ? JSON.parse(r.text) : null; } catch (e) { return null; } };
	const s = parse(sum), w = parse(weights), x = parse(explain);
	const layer = s && s.model.layers.find((l) => l.name === name);
	if (layer) {
		panel.append(el('p', `${layer.class}: output ${layer.output_shapes.map(shape).join(', ')}; ` +
			`${layer.params} parameters (${layer.trainable_params} trainable, ${layer.non_trainable_params} non-trainable)`));
	}
	const ex = x && x.layers.find((l) => l.layer === name);
	if (ex) {
		panel.append(el('h4', 'Parameter count'), el('pre', ex.formula, { className: 'mono formula' }));
	}
	const wl = w && w.layers.find((l) => l.name === name);
	if (wl && wl.tensors && wl.tensors.length) {
		const t = el('table');
		const head = el('tr');
		for (const h of ['weight', 'shape', 'min', 'max', 'mean', 'std', 'NaN', 'Inf']) head.append(el('th', h));
		t.append(head);
		for (const tensor of wl.tensors) {
			const r = el('tr');
			for (const v of [tensor.name, shape(tensor.shape), tensor.min, tensor.max, tensor.mean, tensor.std, tensor.nan, tensor.inf]) {
				r.append(el('td', fmt(v)));
			}
			t.append(r);
		}
		panel.append(el('h4', 'Weights'), t);
	}
	if (cfg.code === 0) {
		const c = findLayer(JSON.parse(cfg.config), name);
		if (c) panel.append(el('h4', 'Config'), el('pre', JSON.stringify(c.config, null, 2), { className: 'mono' }));
	}
	document.body.dataset.layer = name;
}

// ---- predict ---------------------------------------------------------------

async function predict() {
	clearError();
	const args = ['predict', '--format', $('out-format').value];
	const pasted = $('input-json').value.trim();
	let inputs = state.inputs;
	if (pasted) {
		await put('pasted-input.json', new TextEncoder().encode(pasted).buffer);
		inputs = ['pasted-input.json'];
	}
	for (const p of inputs) args.push('--input', p);
	const r = ok(await kerascope([...args, '--', state.model.path]));
	state.cache.delete(JSON.stringify([...args, '--', state.model.path]));
	state.prediction = r;
	$('predict-download').disabled = !r;
	if (!r) {
		$('predict').textContent = '';
		return;
	}
	$('predict').textContent = $('out-format').value === 'npy' ? `${r.stdout.length} bytes of .npy; download it` : r.text;
	document.body.dataset.predicted = '1';
}

function download() {
	const r = state.prediction;
	if (!r) return;
	const ext = $('out-format').value;
	const url = URL.createObjectURL(new Blob([r.stdout]));
	const a = el('a', '', { href: url, download: state.model.name.replace(/\.[^.]*$/, '') + '.output.' + ext });
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function dropInputs(fileList) {
	clearError();
	for (const old of state.inputs) {
		if (files.delete(old)) await call({ op: 'drop', path: old });
	}
	state.inputs = [];
	try {
		for (const f of fileList) {
			const path = 'input-' + f.name;
			await put(path, await readFile(f));
			state.inputs.push(path);
		}
		$('input-json').value = '';
		done(`inputs: ${[...fileList].map((f) => f.name).join(', ')}`);
	} catch (e) {
		showError(e.message);
	}
}

async function exampleInput() {
	const name = state.model.example;
	const resp = await fetch(`examples/${name}.input.npy`);
	if (!resp.ok) return showError(`kerascope: error: examples/${name}.input.npy: ${resp.status}`);
	const path = 'input-' + name + '.input.npy';
	await put(path, await resp.arrayBuffer());
	state.inputs = [path];
	$('input-json').value = '';
	done(`inputs: ${name}.input.npy`);
}

// ---- wiring ----------------------------------------------------------------

$('max-size').textContent = mib(MAX_FILE);
for (const b of document.querySelectorAll('#tabs button')) {
	if (b.dataset.view !== 'open') b.disabled = true;
	b.onclick = () => show(b.dataset.view);
}
$('file').onchange = (e) => e.target.files[0] && openFile(e.target.files[0]);
const drop = $('drop');
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => {
	e.preventDefault();
	drop.classList.remove('over');
	if (e.dataTransfer.files[0]) openFile(e.dataTransfer.files[0]);
};
for (const b of document.querySelectorAll('#examples button')) b.onclick = () => openExample(b.dataset.example);
for (const i of document.querySelectorAll('input[name=style], #expand-nested, #show-trainable')) i.onchange = () => show('summary');
$('unroll').onchange = () => show('units');
$('graph-fit').onclick = () => $('graph').fit && $('graph').fit();
$('units-fit').onclick = () => $('units').fit && $('units').fit();
$('inputs').onchange = (e) => dropInputs(e.target.files);
$('predict-run').onclick = predict;
$('predict-download').onclick = download;
$('example-input').onclick = exampleInput;
startWorker().catch(() => {});

// For tests and scripts: the page's state, read only.
window.kerascopePage = { state, kerascope, openModel, selectLayer };
