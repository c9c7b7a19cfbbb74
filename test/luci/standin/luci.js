/*
 * A small stand-in for LuCI's client runtime (luci.js, cbi.js, rpc.js,
 * ui.js, uci.js, form.js), written for vpnpass's tests from LuCI's sources
 * (openwrt/luci, modules/luci-base/htdocs/luci-static/resources): enough to
 * load a view that uses 'require view', 'form', 'rpc', 'ui', 'poll', 'dom',
 * run it as View.__init__ does (load, render, footer) and talk ubus JSON-RPC
 * to the server. Where LuCI has a sharp edge the view must respect, this
 * behaves the same:
 *  - dom.append: a bare string becomes innerHTML; in an array, every item
 *    that is not a Node becomes a text node, null and undefined included
 *    (they print "null"/"undefined": luci.js tests the array, not the item);
 *  - rpc.js queues every call issued in one frame into one batched JSON-RPC
 *    array posted to the ubus path; a JSON-RPC error rejects with
 *    "RPC call to O/M failed with error C: MSG"; a numeric ubus status is the
 *    result unless `reject`; `expect` replaces a result of the wrong type
 *    (a status number too) by its default; a request past L.env.rpctimeout
 *    rejects with "XHR request aborted by browser";
 *  - form.Map asks `session access` (uci, config, write) and renders every
 *    widget disabled when it is denied; the footer's buttons follow the maps;
 *  - Save & Apply: Map.save (uci set/delete over ubus, reload, re-render),
 *    then ui.changes.apply: POST admin/uci/apply_rollback, POST
 *    admin/uci/confirm with the token it returned, then a page reload;
 *  - _() trims and collapses blanks, hashes with sfh and looks up window.TR.
 * Where it is simpler than LuCI (no tabs, dependencies, validation of
 * datatypes, no rollback countdown, poll runs by setInterval): see
 * form.js and the notes there.
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
	// LuCI's own strings (buttons, apply status) come from luci-base's
	// catalog, which the stand-in does not have: looked up, never recorded.
	window.__runtimeStrings = {};
	window._ = function(s, c) {
		const k = (c != null ? trimws(c) + '\u0001' : '') + trimws(s);
		const v = window.TR && window.TR[sfh(k)];
		if (!v && !window.__runtimeStrings[s])
			window.__untranslated[s] = true;
		return v || s;
	};
	window.N_ = function(n, s, p, c) {
		const k = (c != null ? trimws(c) + '\u0001' : '') + trimws(s) + '\u0002' + (n != 1 ? 1 : 0);
		return (window.TR && window.TR[sfh(k)]) || (n != 1 ? p : s);
	};

	// String.prototype.format: the %s, %d, %.Nf and %% LuCI's views use (cbi.js).
	String.prototype.format = function() {
		const args = arguments;
		let i = 0;
		return this.replace(/%(%|s|d|\.(\d+)f)/g, (m, t, prec) => {
			if (t == '%')
				return '%';
			if (i >= args.length)
				return '';
			const v = args[i++];
			if (prec != null)
				return (+v || 0).toFixed(+prec);
			// %s prints a missing value as "undefined" or "null", as cbi.js does
			return (t == 'd') ? Math.floor(+v || 0).toFixed(0) : String(v);
		});
	};

	/* --- dom (luci.js LuCI.dom) ------------------------------------------- */

	const isElem = (e) => e != null && typeof(e) == 'object' && 'nodeType' in e;
	const registry = {};
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
			if (!isElem(node))
				return null;
			if (Array.isArray(children)) {
				for (let i = 0; i < children.length; i++)
					if (isElem(children[i]))
						node.appendChild(children[i]);
					else if (children !== null && children !== undefined) // sic: luci.js
						node.appendChild(document.createTextNode('' + children[i]));
				return node.lastChild;
			}
			if (typeof(children) == 'function')
				return this.append(node, children(node));
			if (isElem(children))
				return node.appendChild(children);
			if (children !== null && children !== undefined) {
				node.innerHTML = '' + children;
				return node.lastChild;
			}
			return null;
		},
		content: function(node, children) {
			if (!isElem(node))
				return null;
			while (node.firstChild)
				node.removeChild(node.firstChild);
			return this.append(node, children);
		},
		create: function(html, attr, data) {
			if (!(attr instanceof Object) || Array.isArray(attr))
				data = attr, attr = null;
			let elem;
			if (Array.isArray(html)) {
				elem = document.createDocumentFragment();
				html.forEach((h) => elem.appendChild(this.create(h)));
			}
			else if (isElem(html))
				elem = html;
			else
				elem = document.createElement(html);
			for (const k in (attr || {}))
				this.attr(elem, k, attr[k]);
			this.append(elem, data);
			return elem;
		},
		data: function(node, key, val) {
			let id = node.getAttribute && node.getAttribute('data-idref');
			if (arguments.length > 2) {
				if (id == null) {
					id = Math.floor(Math.random() * 0xffffffff).toString(16);
					node.setAttribute('data-idref', id);
					registry[id] = {};
				}
				return (registry[id][key] = val);
			}
			return (id != null && registry[id]) ? registry[id][key] : null;
		},
		bindClassInstance: function(node, inst) { return this.data(node, '_class', inst); },
		findClassInstance: function(node) {
			let inst = null;
			do {
				inst = this.data(node, '_class');
				node = node.parentNode;
			} while (inst == null && node != null && node.getAttribute);
			return inst;
		},
		callClassMethod: function(node, method, ...args) {
			const inst = this.findClassInstance(node);
			return (inst && typeof(inst[method]) == 'function') ? inst[method](...args) : null;
		}
	};
	window.E = function() { return dom.create.apply(dom, arguments); };

	/* --- L ------------------------------------------------------------------ */

	const L = window.L = {
		env: Object.assign({ ubuspath: '/ubus/', rpctimeout: 20, nodespec: { satisfied: true, readonly: false } }, window.STANDIN || {}),
		isObject: (v) => v != null && typeof(v) == 'object',
		bind: (fn, self, ...args) => fn.bind(self, ...args),
		resolveDefault: (p, def) => Promise.resolve(p).catch(() => def),
		hasViewPermission: function() {
			const ns = L.env.nodespec;
			return (L.isObject(ns) && ns.satisfied) ? !ns.readonly : null;
		},
		url: (...parts) => '/cgi-bin/luci/' + parts.join('/'),
		raise: function(type, fmt, ...args) {
			const e = new Error(fmt ? String(fmt).format(...args) : 'Unspecified error');
			e.name = type || 'Error';
			throw e;
		},
		error: (e) => { console.error(e); window.__errors.push(String(e && e.stack || e)); }
	};
	window.__errors = [];
	window.addEventListener('error', (ev) => window.__errors.push(String(ev.message)));
	window.addEventListener('unhandledrejection', (ev) => window.__errors.push(String(ev.reason && ev.reason.stack || ev.reason)));

	/* --- rpc (rpc.js, luci.js request queue) ------------------------------- */

	let rpcID = 1;
	let queue = [];
	window.__rpcBatches = [];

	// flush posts every call queued in this frame as one JSON-RPC array, as
	// luci.js's flushRequestQueue does (also a single call: an array of one).
	function flush() {
		const batch = queue;
		queue = [];
		if (!batch.length)
			return;
		window.__rpcBatches.push(batch.map((q) => q.msg.params[1] + '.' + q.msg.params[2]));
		const ctl = new AbortController();
		const timer = setTimeout(() => ctl.abort(), L.env.rpctimeout * 1000);
		fetch(L.env.ubuspath + '?' + Date.now(), { method: 'POST', signal: ctl.signal,
			headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch.map((q) => q.msg)) })
			.then((res) => {
				if (!res.ok)
					throw new Error('RPC call failed with HTTP error ' + res.status);
				return res.json();
			})
			.then((json) => batch.forEach((q) => (Array.isArray(json) && json.length)
				? q.handle(json.shift()) : q.reject(new Error('No related RPC reply'))))
			.catch((e) => batch.forEach((q) => q.reject(e.name == 'AbortError' ? new Error('XHR request aborted by browser') : e)))
			.finally(() => clearTimeout(timer));
	}

	// handleCallReply as rpc.js has it.
	function handleReply(options, params, resolve, reject, msg) {
		const t = Object.prototype.toString;
		if (!L.isObject(msg) || msg.jsonrpc != '2.0')
			return reject(new Error('RPC call to %s/%s returned invalid message frame'.format(options.object, options.method)));
		if (L.isObject(msg.error) && msg.error.code && msg.error.message)
			return reject(Object.assign(new Error('RPC call to %s/%s failed with error %d: %s'.format(
				options.object, options.method, msg.error.code, msg.error.message)), { name: 'RPCError' }));
		let ret = null;
		if (Array.isArray(msg.result)) {
			if (options.reject && msg.result[0] !== 0)
				return reject(Object.assign(new Error('RPC call to %s/%s failed with ubus code %d'.format(
					options.object, options.method, msg.result[0])), { name: 'RPCError' }));
			ret = (msg.result.length > 1) ? msg.result[1] : msg.result[0];
		}
		for (const key in (options.expect || {})) {
			if (ret != null && key != '')
				ret = ret[key];
			if (ret == null || t.call(ret) != t.call(options.expect[key]))
				ret = options.expect[key];
			break;
		}
		resolve((typeof(options.filter) == 'function') ? options.filter(ret, params) : ret);
	}

	const rpc = {
		declare: function(options) {
			return function(...args) {
				const params = {};
				(options.params || []).forEach((name, i) => { params[name] = args[i]; });
				return new Promise((resolve, reject) => {
					const msg = { jsonrpc: '2.0', id: rpcID++, method: 'call',
						params: [ L.env.sessionid || '00000000000000000000000000000000', options.object, options.method, params ] };
					queue.push({ msg: msg, reject: reject, handle: handleReply.bind(null, options, params, resolve, reject) });
					requestAnimationFrame(flush);
				});
			};
		},
		getStatusText: (code) => 'ubus code ' + code
	};

	/* --- ui, poll (ui.js, luci.js Poll) ------------------------------------ */

	[ 'Save & Apply', 'Save', 'Reset', 'Starting configuration apply…', 'There are no changes to apply',
	  'Configuration changes applied.' ].forEach((s) => { window.__runtimeStrings[s] = true; });

	const ui = {
		addNotification: function(title, children, cls) {
			const n = E('div', { 'class': 'alert-message ' + (cls || 'notice') }, [ title ? E('h4', {}, [ title ]) : E('span'), children ]);
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
		},
		tabs: { initTabGroup: function() {}, updateTabs: function() {} },
		showModal: function(title, children) {
			const m = E('div', { 'class': 'modal', 'id': 'modal' }, [ E('h4', {}, [ title ]), E('div', {}, children) ]);
			document.body.appendChild(m);
			return m;
		},
		hideModal: function() { const m = document.getElementById('modal'); if (m) m.remove(); },
		// changes.apply is ui.js's: the dispatcher's apply_rollback answers
		// 200 and a confirm token (204: nothing to apply); confirm answers
		// 204 once the settings took effect; then the page reloads.
		changes: {
			displayStatus: function(cls, content) {
				let s = document.getElementById('applyreboot-section');
				if (!cls) {
					if (s) s.remove();
					return;
				}
				if (!s)
					s = document.body.appendChild(E('div', { 'id': 'applyreboot-section' }));
				s.className = 'alert-message ' + cls;
				dom.content(s, content);
			},
			apply: function(checked) {
				const post = (path, q) => fetch(L.url('admin/uci', path) + '?' + new URLSearchParams(q), { method: 'POST' });
				this.displayStatus('notice spinning', E('p', {}, [ _('Starting configuration apply…') ]));
				return post(checked ? 'apply_rollback' : 'apply_unchecked', { sid: L.env.sessionid, token: L.env.token || '' })
					.then((r) => {
						if (r.status == 204)
							return this.displayStatus('notice', E('p', {}, [ _('There are no changes to apply') ]));
						if (r.status != 200)
							return this.displayStatus('warning', E('p', {}, [ 'Apply request failed with status ' + r.status ]));
						return r.json().then((tok) => post('confirm', tok)).then((c) => {
							if (c.status != 204)
								return this.displayStatus('warning', E('p', {}, [ 'Confirm failed with status ' + c.status ]));
							this.displayStatus('notice', E('p', {}, [ _('Configuration changes applied.') ]));
							window.__applied = (window.__applied || 0) + 1;
							setTimeout(() => { window.location = window.location.href.split('#')[0]; }, 500);
						});
					});
			}
		}
	};

	// poll runs every function at its interval; tests may run them at once
	// with window.__pollNow() instead of waiting (LuCI's Poll ticks each
	// second and skips a function whose last run has not finished).
	window.__pollIntervals = [];
	const pollFns = [];
	window.__pollNow = () => Promise.all(pollFns.map((p) => p.run()));
	const poll = {
		add: function(fn, interval) {
			window.__pollIntervals.push(interval);
			const p = { busy: null, run: () => p.busy || (p.busy = Promise.resolve(fn()).finally(() => { p.busy = null; })) };
			pollFns.push(p);
			setInterval(p.run, interval * 1000);
			return true;
		}
	};

	/* --- view (luci.js View) and the module loader ----------------------------- */

	const view = {
		extend: function(props) {
			const V = function() {};
			V.prototype = Object.assign({
				load: function() {},
				render: function() {},
				handleSave: function() {
					return Promise.all(Array.from(document.getElementById('maincontent').querySelectorAll('.cbi-map'))
						.map((m) => dom.callClassMethod(m, 'save')));
				},
				handleSaveApply: function(ev, mode) {
					return this.handleSave(ev).then(() => { ui.changes.apply(mode != '1'); });
				},
				handleReset: function() {
					return Promise.all(Array.from(document.getElementById('maincontent').querySelectorAll('.cbi-map'))
						.map((m) => dom.callClassMethod(m, 'reset')));
				},
				// addFooter as luci.js: read-only when every form map is (or,
				// without maps, when the view permission is read-only).
				addFooter: function() {
					let hasmap = false, readonly = true;
					document.getElementById('view').querySelectorAll('.cbi-map').forEach((map) => {
						const m = dom.findClassInstance(map);
						if (m) {
							hasmap = true;
							if (!m.readonly)
								readonly = false;
						}
					});
					if (!hasmap)
						readonly = !L.hasViewPermission();
					const btn = (cls, fn, label) => this[fn] ? E('button', { 'class': 'cbi-button ' + cls,
						'click': ui.createHandlerFn(this, fn), 'disabled': readonly || null }, [ label ]) : E([]);
					if (!(this.handleSaveApply || this.handleSave || this.handleReset))
						return E([]);
					return E('div', { 'class': 'cbi-page-actions' }, [
						btn('cbi-button-apply important', 'handleSaveApply', _('Save & Apply')), ' ',
						btn('cbi-button-save', 'handleSave', _('Save')), ' ',
						btn('cbi-button-reset', 'handleReset', _('Reset'))
					]);
				}
			}, props);
			return V;
		}
	};

	// baseclass (luci.js LuCI.baseclass): extend() makes a class whose
	// instances carry the given properties; the loader instantiates a
	// required module's class once, as L.require does.
	const baseclass = {
		extend: function(props) {
			const C = function() {};
			C.prototype = Object.assign({}, props);
			return C;
		}
	};

	const modules = { view: view, rpc: rpc, ui: ui, poll: poll, dom: dom, baseclass: baseclass };
	window.LuCIStandin = { L: L, dom: dom, rpc: rpc, ui: ui, modules: modules };

	// compile fetches a script under luci-static/resources, loads the
	// modules its 'require' lines ask for (ours from resources/<a>/<b>.js,
	// once each, as L.require does) and returns what its factory returns.
	const loaded = {};
	function compile(path) {
		return fetch('/luci-static/resources/' + path + '.js').then((r) => {
			if (!r.ok)
				throw new Error('cannot load ' + path + ': HTTP ' + r.status);
			return r.text();
		}).then((src) => {
			const reqs = [];
			const re = /^\s*'require\s+([\w.]+)(?:\s+as\s+(\w+))?'\s*;/gm;
			let m;
			while ((m = re.exec(src)) != null)
				reqs.push([ m[2] || m[1], m[1] ]);
			return Promise.all(reqs.map((r) => modules[r[1]] || requireModule(r[1]))).then((insts) => {
				const factory = new Function('window', 'document', 'L', ...reqs.map((r) => r[0]), src + '\n//# sourceURL=' + path + '.js');
				return factory(window, document, L, ...insts);
			});
		});
	}

	function requireModule(name) {
		if (!/^vpnpass\./.test(name))
			return Promise.reject(new Error('stand-in has no module ' + name));
		return loaded[name] || (loaded[name] = compile(name.replace(/\./g, '/')).then((C) => new C()));
	}

	// loadInclude mounts a Status -> Overview include as LuCI's
	// view/status/index.js does: load(), render(), a section titled by the
	// include's title; a null render hides it.
	window.loadInclude = function(path) {
		return compile(path).then((C) => {
			const inc = new C();
			return Promise.resolve(inc.load()).then((data) => inc.render(data)).then((node) => {
				const vp = document.getElementById('view');
				dom.content(vp, node == null ? [] : E('div', { 'class': 'cbi-section', 'id': 'status-include' }, [ E('h3', {}, [ inc.title ]), node ]));
				document.body.setAttribute('data-view-ready', '1');
			});
		}).catch(L.error);
	};

	// loadView fetches a view, hands it the modules its 'require' lines ask
	// for, and mounts it as View.__init__ does: render() into #view, then
	// the footer.
	window.loadView = function(path) {
		return compile('view/' + path).then((V) => {
			const v = new V();
			return Promise.resolve(v.load()).then((data) => v.render(data)).then((node) => {
				const vp = document.getElementById('view');
				dom.content(vp, node);
				dom.append(vp, v.addFooter());
				document.body.setAttribute('data-view-ready', '1');
			});
		}).catch(L.error);
	};
})(window, document);
