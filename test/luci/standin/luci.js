/*
 * A small stand-in for LuCI's client runtime (luci.js, cbi.js, rpc.js,
 * ui.js, dom), written for vpnpass's tests from LuCI's documented
 * behaviour: enough to load a view that uses 'require view', 'rpc', 'ui',
 * 'poll', 'dom', run its load()/render() and talk ubus JSON-RPC to /ubus.
 * Where LuCI has a sharp edge the view must respect, this behaves the same:
 * a bare string given to E() or dom.content() becomes innerHTML, strings
 * inside an array become text nodes; _() trims and collapses blanks, hashes
 * with sfh and looks up window.TR.
 */
(function(window, document) {
	'use strict';

	/* --- i18n (cbi.js) --------------------------------------------------- */

	// sfh is Paul Hsieh's SuperFastHash over the UTF-8 bytes, as LuCI's
	// lmo.c computes it (init = length, signed char in the tail).
	function sfh(s) {
		const b = new TextEncoder().encode(s);
		if (!b.length)
			return null;
		const u16 = (o) => (b[o] | (b[o + 1] << 8)) >>> 0;
		const s8 = (o) => (b[o] << 24) >> 24;
		let h = b.length >>> 0, o = 0;
		for (let n = b.length >>> 2; n > 0; n--, o += 4) {
			h = (h + u16(o)) >>> 0;
			const tmp = ((u16(o + 2) << 11) ^ h) >>> 0;
			h = ((h << 16) ^ tmp) >>> 0;
			h = (h + (h >>> 11)) >>> 0;
		}
		switch (b.length & 3) {
		case 3:
			h = (h + u16(o)) >>> 0;
			h = (h ^ (h << 16)) >>> 0;
			h = (h ^ (s8(o + 2) << 18)) >>> 0;
			h = (h + (h >>> 11)) >>> 0;
			break;
		case 2:
			h = (h + u16(o)) >>> 0;
			h = (h ^ (h << 11)) >>> 0;
			h = (h + (h >>> 17)) >>> 0;
			break;
		case 1:
			h = (h + s8(o)) >>> 0;
			h = (h ^ (h << 10)) >>> 0;
			h = (h + (h >>> 1)) >>> 0;
		}
		h = (h ^ (h << 3)) >>> 0;
		h = (h + (h >>> 5)) >>> 0;
		h = (h ^ (h << 4)) >>> 0;
		h = (h + (h >>> 17)) >>> 0;
		h = (h ^ (h << 25)) >>> 0;
		h = (h + (h >>> 6)) >>> 0;
		return (0x100000000 + h).toString(16).substr(1);
	}

	const trimws = (s) => String(s).trim().replace(/[ \t\n]+/g, ' ');
	window.sfh = sfh;
	window.__untranslated = {};
	window._ = function(s, c) {
		const k = (c != null ? trimws(c) + '\u0001' : '') + trimws(s);
		const v = window.TR && window.TR[sfh(k)];
		if (!v)
			window.__untranslated[s] = true;
		return v || s;
	};
	window.N_ = function(n, s, p, c) {
		const k = (c != null ? trimws(c) + '\u0001' : '') + trimws(s) + '\u0002' + (n != 1 ? 1 : 0);
		return (window.TR && window.TR[sfh(k)]) || (n != 1 ? p : s);
	};

	// String.prototype.format: the %s, %d and %% LuCI's views use.
	String.prototype.format = function() {
		const args = arguments;
		let i = 0;
		return this.replace(/%(%|s|d)/g, (m, t) => {
			if (t == '%')
				return '%';
			const v = args[i++];
			return (t == 'd') ? Math.floor(+v || 0).toFixed(0) : (v == null ? '' : String(v));
		});
	};

	/* --- dom --------------------------------------------------------------- */

	const isElem = (e) => e != null && typeof(e) == 'object' && 'nodeType' in e;
	const dom = {
		elem: isElem,
		attr: function(node, key, val) {
			if (val == null)
				return;
			if (typeof(val) == 'function')
				node.addEventListener(key, val);
			else
				node.setAttribute(key, typeof(val) == 'object' ? JSON.stringify(val) : val);
		},
		append: function(node, children) {
			if (Array.isArray(children)) {
				children.forEach((c) => {
					if (isElem(c))
						node.appendChild(c);
					else if (c != null)
						node.appendChild(document.createTextNode(String(c)));
				});
			}
			else if (typeof(children) == 'function') {
				this.append(node, children(node));
			}
			else if (isElem(children)) {
				node.appendChild(children);
			}
			else if (children != null) {
				node.innerHTML = String(children);
			}
			return node.lastChild;
		},
		content: function(node, children) {
			while (node.firstChild)
				node.removeChild(node.firstChild);
			return this.append(node, children);
		},
		create: function(tag, attrs, data) {
			const node = document.createElement(tag);
			if (!(attrs != null && typeof(attrs) == 'object' && !Array.isArray(attrs) && !isElem(attrs))) {
				data = attrs;
				attrs = null;
			}
			for (const k in (attrs || {}))
				this.attr(node, k, attrs[k]);
			this.append(node, data);
			return node;
		}
	};
	window.E = function() { return dom.create.apply(dom, arguments); };

	/* --- L ------------------------------------------------------------------ */

	const L = window.L = {
		env: window.STANDIN || {},
		isObject: (v) => v != null && typeof(v) == 'object',
		bind: (fn, self, ...args) => fn.bind(self, ...args),
		resolveDefault: (p, def) => Promise.resolve(p).catch(() => def),
		error: (e) => { console.error(e); window.__errors.push(String(e && e.stack || e)); }
	};
	window.__errors = [];
	window.addEventListener('error', (ev) => window.__errors.push(String(ev.message)));
	window.addEventListener('unhandledrejection', (ev) => window.__errors.push(String(ev.reason && ev.reason.stack || ev.reason)));

	/* --- rpc (rpc.js) ------------------------------------------------------- */

	let rpcID = 1;
	const rpc = {
		declare: function(options) {
			return function() {
				const args = Array.prototype.slice.call(arguments);
				const params = {};
				(options.params || []).forEach((name, i) => { params[name] = args[i]; });
				const msg = { jsonrpc: '2.0', id: rpcID++, method: 'call',
					params: [ L.env.sessionid || '00000000000000000000000000000000', options.object, options.method, params ] };
				return fetch(L.env.ubus || '/ubus', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(msg) })
					.then((res) => { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
					.then((reply) => {
						if (!L.isObject(reply) || reply.jsonrpc != '2.0')
							throw new Error('invalid message frame');
						if (L.isObject(reply.error))
							throw new Error('RPC error ' + reply.error.code + ': ' + reply.error.message);
						let ret = Array.isArray(reply.result) ? (reply.result.length > 1 ? reply.result[1] : reply.result[0]) : reply.result;
						if (options.reject && reply.result[0] !== 0)
							throw new Error('ubus code ' + reply.result[0]);
						for (const key in (options.expect || {})) {
							if (ret != null && key != '')
								ret = ret[key];
							const t = Object.prototype.toString;
							if (ret == null || t.call(ret) != t.call(options.expect[key]))
								ret = options.expect[key];
							break;
						}
						return (typeof(options.filter) == 'function') ? options.filter(ret, params) : ret;
					});
			};
		}
	};

	/* --- ui, poll ------------------------------------------------------------ */

	const ui = {
		addNotification: function(title, children, cls) {
			const n = E('div', { 'class': 'alert-message ' + (cls || 'notice') }, [ title ? E('h4', {}, [ title ]) : '', children ]);
			document.getElementById('notifications').appendChild(n);
			return n;
		},
		createHandlerFn: function(ctx, fn, ...args) {
			const f = (typeof(fn) == 'string') ? ctx[fn] : fn;
			return function(ev) {
				const t = ev.currentTarget;
				const r = f.apply(ctx, args.concat([ ev ]));
				if (r && typeof(r.then) == 'function') {
					t.classList.add('spinning');
					t.disabled = true;
					r.finally(() => { t.classList.remove('spinning'); t.disabled = false; });
				}
				return r;
			};
		}
	};

	window.__pollIntervals = [];
	const poll = {
		add: function(fn, interval) {
			window.__pollIntervals.push(interval);
			let running = false;
			setInterval(() => {
				if (running)
					return;
				running = true;
				Promise.resolve(fn()).finally(() => { running = false; });
			}, interval * 1000);
			return true;
		}
	};

	/* --- view and the module loader ------------------------------------------ */

	const view = {
		extend: function(props) {
			const V = function() {};
			V.prototype = Object.assign({
				load: function() {},
				render: function() {},
				handleSave: null, handleSaveApply: null, handleReset: null
			}, props);
			return V;
		}
	};

	const modules = { view: view, rpc: rpc, ui: ui, poll: poll, dom: dom };

	// loadView fetches a view, hands it the modules its 'require' lines ask
	// for, and mounts what render() returns into #view, as LuCI does.
	window.loadView = function(path) {
		return fetch('/luci-static/resources/view/' + path + '.js').then((r) => r.text()).then((src) => {
			const names = [];
			const re = /^\s*'require\s+([\w.]+)(?:\s+as\s+(\w+))?'\s*;/gm;
			let m;
			while ((m = re.exec(src)) != null) {
				if (!modules[m[1]])
					throw new Error('stand-in has no module ' + m[1]);
				names.push([ m[2] || m[1], modules[m[1]] ]);
			}
			const factory = new Function('window', 'document', 'L', ...names.map((n) => n[0]), src + '\n//# sourceURL=' + path + '.js');
			const V = factory(window, document, L, ...names.map((n) => n[1]));
			const v = new V();
			return Promise.resolve(v.load()).then((data) => v.render(data)).then((node) => {
				dom.content(document.getElementById('view'), node);
				document.body.setAttribute('data-view-ready', '1');
			});
		}).catch(L.error);
	};
})(window, document);
