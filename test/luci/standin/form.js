/*
 * Stand-in for LuCI's uci.js and form.js: the part vpnpass's view uses
 * (Map, NamedSection, Flag, ListValue, Value), with the same markup ids,
 * the same ubus calls and the same parse/write rules as LuCI's sources:
 *  - Map.load: session access (uci, config, write) unless readonly is set,
 *    and uci get; access denied makes the map readonly, and every widget
 *    of a readonly map is rendered disabled;
 *  - an option reads and writes uci (ucisection || section, ucioption ||
 *    option); parse writes a value only when it differs from the
 *    configuration, removes an empty one when rmempty (the default), and
 *    keeps an empty mandatory one (rmempty = false) as it was;
 *  - Map.save: parse, uci.save (one ubus "set" per changed section, one
 *    "delete" per section with removed options), uci load again, render.
 * Simpler than LuCI: no tabs, no depends, datatype is not validated, one
 * config per map, widgets are plain elements (select, checkbox, input).
 */
(function(window, document) {
	'use strict';

	const S = window.LuCIStandin, L = S.L, dom = S.dom, rpc = S.rpc;

	/* --- uci (uci.js) -------------------------------------------------------- */

	const callGet = rpc.declare({ object: 'uci', method: 'get', params: [ 'config' ], expect: { values: {} }, reject: true });
	const callSet = rpc.declare({ object: 'uci', method: 'set', params: [ 'config', 'section', 'values' ], reject: true });
	const callDelete = rpc.declare({ object: 'uci', method: 'delete', params: [ 'config', 'section', 'options' ], reject: true });
	const callAccess = rpc.declare({ object: 'session', method: 'access', params: [ 'scope', 'object', 'function' ], expect: { access: false } });

	const uci = {
		values: {}, changes: {}, deletes: {},
		load: function(config) {
			return callGet(config).then((v) => { this.values[config] = v; return config; });
		},
		get: function(config, sid, opt) {
			const c = this.changes[config] || {}, d = this.deletes[config] || {};
			if (c[sid] && opt in c[sid])
				return c[sid][opt];
			if (d[sid] && d[sid][opt])
				return null;
			const s = (this.values[config] || {})[sid];
			return s ? s[opt] : null;
		},
		set: function(config, sid, opt, val) {
			const c = (this.changes[config] = this.changes[config] || {});
			const d = (this.deletes[config] = this.deletes[config] || {});
			if (val == null) {
				if (this.get(config, sid, opt) != null)
					(d[sid] = d[sid] || {})[opt] = true;
				if (c[sid])
					delete c[sid][opt];
				return;
			}
			(c[sid] = c[sid] || {})[opt] = val;
			if (d[sid])
				delete d[sid][opt];
		},
		unset: function(config, sid, opt) { this.set(config, sid, opt, null); },
		save: function() {
			const tasks = [], configs = {};
			for (const config in this.changes)
				for (const sid in this.changes[config])
					if (Object.keys(this.changes[config][sid]).length) {
						tasks.push(callSet(config, sid, this.changes[config][sid]));
						configs[config] = true;
					}
			for (const config in this.deletes)
				for (const sid in this.deletes[config])
					if (Object.keys(this.deletes[config][sid]).length) {
						tasks.push(callDelete(config, sid, Object.keys(this.deletes[config][sid])));
						configs[config] = true;
					}
			this.changes = {};
			this.deletes = {};
			return Promise.all(tasks).then(() => Promise.all(Object.keys(configs).map((c) => this.load(c))));
		}
	};

	/* --- form (form.js) ------------------------------------------------------- */

	function Map(config, title, description) {
		Object.assign(this, { config: config, title: title, description: description, children: [], data: uci, readonly: null });
	}
	Map.prototype = {
		section: function(Cls, ...args) {
			const s = new Cls(this, ...args);
			this.children.push(s);
			return s;
		},
		load: function() {
			const check = (this.readonly == null) ? callAccess('uci', this.config, 'write') : true;
			return Promise.all([ check, uci.load(this.config) ]).then((res) => {
				if (res[0] === false)
					this.readonly = true;
			});
		},
		render: function() { return this.load().then(() => this.renderContents()); },
		renderContents: function() {
			const el = (this.root = this.root || E('div', { 'id': 'cbi-' + this.config, 'class': 'cbi-map' }));
			dom.bindClassInstance(el, this);
			dom.content(el, [
				this.title ? E('h2', { 'name': 'content' }, [ this.title ]) : E([]),
				this.description ? E('div', { 'class': 'cbi-map-descr' }, [ this.description ]) : E([])
			].concat(this.children.map((s) => s.render())));
			return Promise.resolve(el);
		},
		parse: function() { return Promise.all(this.children.map((s) => s.parse())); },
		save: function() {
			return this.parse().then(() => uci.save()).then(() => this.load()).then(() => this.renderContents());
		},
		reset: function() { return this.renderContents(); }
	};

	function NamedSection(map, sid, type, title, description) {
		Object.assign(this, { map: map, section: sid, sectiontype: type, title: title, description: description, children: [] });
	}
	NamedSection.prototype = {
		option: function(Cls, name, title, description) {
			const o = new Cls(this, name, title, description);
			this.children.push(o);
			return o;
		},
		render: function() {
			const id = 'cbi-%s-%s'.format(this.map.config, this.section);
			return E('div', { 'class': 'cbi-section', 'id': id }, [
				this.title ? E('h3', {}, [ this.title ]) : E([]),
				this.description ? E('div', { 'class': 'cbi-section-descr' }, [ this.description ]) : E([]),
				E('div', { 'class': 'cbi-section-node' }, this.children.map((o) => o.render(this.section)))
			]);
		},
		parse: function() { return Promise.all(this.children.map((o) => o.parse(this.section))); }
	};

	function AbstractValue(section, option, title, description) {
		Object.assign(this, { section: section, map: section.map, option: option, title: title,
			description: description, rmempty: true, keylist: [], vallist: [], readonly: null });
	}
	AbstractValue.prototype = {
		cbid: function(sid) { return 'cbid.%s.%s.%s'.format(this.map.config, sid, this.option); },
		cfgvalue: function(sid) { return uci.get(this.map.config, this.ucisection || sid, this.ucioption || this.option); },
		textvalue: function(sid) { const v = this.cfgvalue(sid); return (v == null) ? (this['default'] || '') : v; },
		write: function(sid, v) { uci.set(this.map.config, this.ucisection || sid, this.ucioption || this.option, v); },
		remove: function(sid) { uci.unset(this.map.config, this.ucisection || sid, this.ucioption || this.option); },
		isReadonly: function() { return (this.readonly != null) ? this.readonly : !!this.map.readonly; },
		widget: function() { return document.getElementById('widget.' + this.cbid(this.section.section)); },
		render: function(sid) {
			const id = 'widget.' + this.cbid(sid);
			return E('div', { 'class': 'cbi-value', 'id': 'cbi-%s-%s-%s'.format(this.map.config, sid, this.option), 'data-name': this.option }, [
				E('label', { 'class': 'cbi-value-title', 'for': id }, [ this.title || '' ]),
				E('div', { 'class': 'cbi-value-field' }, [
					E('div', { 'data-field': this.cbid(sid) }, [ this.renderWidget(sid, id) ]),
					this.description ? E('div', { 'class': 'cbi-value-description' }, [ this.description ]) : E([])
				])
			]);
		},
		formvalue: function() { const w = this.widget(); return w ? w.value : null; },
		parse: function(sid) {
			const fval = this.formvalue(sid), cval = this.cfgvalue(sid);
			if (fval != null && fval !== '') {
				if (fval !== cval)
					this.write(sid, fval);
			}
			else if (this.rmempty)
				this.remove(sid);
			return Promise.resolve();
		}
	};

	function extend(render, extra) {
		const C = function(...args) { AbstractValue.apply(this, args); };
		C.prototype = Object.assign(Object.create(AbstractValue.prototype), { renderWidget: render }, extra || {});
		return C;
	}

	const ListValue = extend(function(sid, id) {
		const cur = this.textvalue(sid);
		return E('select', { 'id': id, 'name': this.cbid(sid), 'class': 'cbi-input-select', 'disabled': this.isReadonly() || null },
			this.keylist.map((k, i) => E('option', { 'value': k, 'selected': (k == cur) ? '' : null }, [ this.vallist[i] ])));
	}, {
		value: function(k, v) { this.keylist.push(String(k)); this.vallist.push((v != null) ? v : k); }
	});

	const Flag = extend(function(sid, id) {
		return E('div', { 'class': 'cbi-checkbox' }, [
			E('input', { 'id': id, 'name': this.cbid(sid), 'type': 'checkbox', 'value': '1',
				'checked': (this.textvalue(sid) == '1') ? '' : null, 'disabled': this.isReadonly() || null }),
			E('label', { 'for': id })
		]);
	}, {
		formvalue: function() { const w = this.widget(); return w ? (w.checked ? '1' : '0') : null; }
	});

	const Value = extend(function(sid, id) {
		const v = this.cfgvalue(sid);
		return E('input', { 'id': id, 'name': this.cbid(sid), 'type': 'text', 'class': 'cbi-input-text',
			'value': (v != null) ? v : (this['default'] || ''), 'placeholder': this.placeholder || null, 'disabled': this.isReadonly() || null });
	});

	S.modules.uci = uci;
	S.modules.form = { Map: Map, NamedSection: NamedSection, ListValue: ListValue, Flag: Flag, Value: Value };
})(window, document);
