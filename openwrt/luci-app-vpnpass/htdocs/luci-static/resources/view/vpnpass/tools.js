'use strict';
'require view';
'require ui';
'require dom';
'require rpc';
'require vpnpass.common as vc';

/*
 * VPN passthrough, the tools tab:
 *  - Probe a VPN server from the router (ubus probe): per port answered,
 *    refused or silent, with what that means (the CLI's texts, from the
 *    catalog). Results stay on the page, newest first, until cleared.
 *    probe sends packets to the internet, so the app's ACL grants it with
 *    write: a read-only login sees the form disabled.
 *  - Explain a destination (ubus explain): the path of one packet through
 *    every firewall hooking forward, rule by rule, the deciding rule
 *    highlighted, with a link to LuCI's firewall page where the rule came
 *    from a named UCI rule or port forward (fw4 and fw3 comment it
 *    "!fw4: <name>"; the names come from rpcd's uci, which starts no process).
 * Nothing loads when the tab opens and nothing polls.
 */

/* The packets the explain form offers ready-made: every footprint element
 * that explain can take. */
const EXPLAIN_PROTOS = [ 'udp', 'tcp', 'gre', 'esp', 'ah' ];

/* rpcd's own uci object (no process started): the firewall's named
 * sections, to link a rule fw4 made from one to LuCI's page for it. */
const callUci = rpc.declare({ object: 'uci', method: 'get', params: [ 'config' ] });

/* FIREWALL_PAGES: where luci-app-firewall edits each section type. */
const FIREWALL_PAGES = { rule: 'rules', redirect: 'forwards' };

function field(id, label, input) {
	return E('div', { 'class': 'cbi-value' }, [
		E('label', { 'class': 'cbi-value-title', 'for': id }, [ label ]),
		E('div', { 'class': 'cbi-value-field' }, [ input ])
	]);
}

function value(id) {
	return document.getElementById(id).value.trim();
}

/* isDeciding tells whether a path step is the rule (or policy) that decided. */
function isDeciding(step, d) {
	if (!L.isObject(d) || step.table != d.table || step.chain != d.chain)
		return false;
	return d.policy ? step.effect == 'policy' : String(step.handle) == String(d.handle);
}

/* sectionsOf maps the names of the firewall's rules and port forwards to
 * their luci-app-firewall page (fw4 and fw3 comment a rule "!fw4: <name>"). */
function sectionsOf(a) {
	const out = {};
	const values = (a.result && L.isObject(a.result.values)) ? a.result.values : {};
	Object.keys(values).forEach((k) => {
		const s = values[k];
		if (FIREWALL_PAGES[s['.type']] && s.name)
			out[s.name] = FIREWALL_PAGES[s['.type']];
	});
	return out;
}

/* ruleLink links a rule made from a named UCI section to its firewall page. */
function ruleLink(step, sections) {
	const m = /^!fw[34]: (.+)$/.exec(step.comment || '');
	if (!m || !sections[m[1]])
		return E('span');
	return E('a', { 'class': 'vpnpass-rule-link', 'href': L.url('admin', 'network', 'firewall', sections[m[1]]), 'title': _('Open it in the firewall settings') },
		[ _('Firewall rule "%s"').format(m[1]) ]);
}

return view.extend({
	load: function() {},

	render: function() {
		this.probes = [];
		const writable = L.hasViewPermission();
		this.nodes = {
			probes: E('div', { 'id': 'vpnpass-probe-results' }),
			explain: E('div', { 'id': 'vpnpass-explain-result' })
		};
		return E('div', { 'id': 'vpnpass' }, [
			E('h2', {}, [ _('VPN Passthrough') ]),
			this.renderProbeForm(writable),
			this.renderExplainForm()
		]);
	},

	renderProbeForm: function(writable) {
		const dis = writable ? null : '';
		return E('div', { 'class': 'cbi-section', 'id': 'vpnpass-probe' }, [
			E('h3', {}, [ _('Probe a VPN server') ]),
			E('p', { 'class': 'cbi-section-descr' }, [ _('The router itself sends the first packet of each VPN protocol to the server and reports what came back. This tells whether the server and the way to it work, independently of any device in your network.') ]),
			writable ? E('span') : E('p', { 'class': 'alert-message notice' }, [ _('Your login may look but not probe: probing sends packets from the router.') ]),
			field('vpnpass-probe-host', _('Server address'), E('input', { 'id': 'vpnpass-probe-host', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': '203.0.113.10', 'disabled': dis })),
			field('vpnpass-probe-protocol', _('Protocol'), E('select', { 'id': 'vpnpass-probe-protocol', 'class': 'cbi-input-select', 'disabled': dis },
				[ E('option', { 'value': '' }, [ _('All') ]) ].concat(vc.PROTOCOLS.map((p) => E('option', { 'value': p }, [ vc.protoName(p) ]))))),
			E('div', { 'class': 'cbi-section-actions' }, [
				E('button', { 'class': 'cbi-button cbi-button-action', 'id': 'vpnpass-probe-run', 'disabled': dis,
					'click': ui.createHandlerFn(this, 'handleProbe') }, [ _('Probe') ]), ' ',
				E('button', { 'class': 'cbi-button cbi-button-reset', 'id': 'vpnpass-probe-clear',
					'click': ui.createHandlerFn(this, 'handleClear') }, [ _('Clear results') ])
			]),
			this.nodes.probes
		]);
	},

	handleProbe: function() {
		const host = value('vpnpass-probe-host'), protocol = value('vpnpass-probe-protocol');
		if (!host)
			return;
		return vc.answerOf(vc.calls.probe(host, protocol || undefined)).then((a) => {
			this.probes.unshift({ host: host, protocol: protocol, time: new Date().toISOString(), answer: a });
			dom.content(this.nodes.probes, this.probes.map((p) => this.renderProbe(p)));
		});
	},

	handleClear: function() {
		this.probes = [];
		dom.content(this.nodes.probes, []);
	},

	renderProbe: function(p) {
		const head = E('p', {}, [ E('strong', {}, [ p.host ]), ' · ', p.protocol ? vc.protoName(p.protocol) : _('All'), ' · ', E('small', {}, [ vc.timeText(p.time) ]) ]);
		if (p.answer.failure)
			return E('div', { 'class': 'cbi-section-node vpnpass-probe' }, [ head, vc.renderFailure(p.answer.failure) ]);
		const results = Array.isArray(p.answer.result.results) ? p.answer.result.results : [];
		return E('div', { 'class': 'cbi-section-node vpnpass-probe', 'data-host': p.host }, [ head,
			E('table', { 'class': 'table' }, [
				E('tr', { 'class': 'tr table-titles' }, [
					E('th', { 'class': 'th' }, [ _('Protocol') ]),
					E('th', { 'class': 'th' }, [ _('Port') ]),
					E('th', { 'class': 'th' }, [ _('Outcome') ]),
					E('th', { 'class': 'th' }, [ _('What it means') ])
				])
			].concat(results.map((r) => {
				const o = vc.OUTCOME_LABELS[r.outcome] || [ String(r.outcome), 'notice' ];
				const rtt = (r.outcome != 'silent' && r.rtt_ms != null) ? ' ' + _('in %.1f ms').format(r.rtt_ms) : '';
				return E('tr', { 'class': 'tr vpnpass-probe-result', 'data-outcome': r.outcome, 'data-port': '%s/%s'.format(r.transport, r.port) }, [
					E('td', { 'class': 'td', 'data-title': _('Protocol') }, [ vc.protoName(r.protocol) ]),
					E('td', { 'class': 'td', 'data-title': _('Port') }, [ '%s %s'.format(String(r.transport || '').toUpperCase(), r.port) ]),
					E('td', { 'class': 'td', 'data-title': _('Outcome') }, [ vc.badge(o[0], o[1]), rtt ]),
					E('td', { 'class': 'td vpnpass-probe-meaning', 'data-title': _('What it means') }, [ vc.probeText(r) ])
				]);
			})))
		]);
	},

	renderExplainForm: function() {
		const presets = Object.keys(vc.MATCH_TEXT).filter((m) => EXPLAIN_PROTOS.indexOf(m.split('/')[0]) >= 0);
		return E('div', { 'class': 'cbi-section', 'id': 'vpnpass-explain' }, [
			E('h3', {}, [ _('Explain a destination') ]),
			E('p', { 'class': 'cbi-section-descr' }, [ _('Follows one packet from your network to the internet through every firewall on this router, rule by rule, and shows which rule decides.') ]),
			field('vpnpass-explain-what', _('Packet'), E('select', { 'id': 'vpnpass-explain-what', 'class': 'cbi-input-select' },
				presets.map((m) => E('option', { 'value': m }, [ vc.MATCH_TEXT[m] ])))),
			field('vpnpass-explain-dst', _('Destination'), E('input', { 'id': 'vpnpass-explain-dst', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': '203.0.113.10' })),
			field('vpnpass-explain-src', _('From device (optional)'), E('input', { 'id': 'vpnpass-explain-src', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': '192.168.1.20' })),
			E('div', { 'class': 'cbi-section-actions' }, [
				E('button', { 'class': 'cbi-button cbi-button-action', 'id': 'vpnpass-explain-run',
					'click': ui.createHandlerFn(this, 'handleExplain') }, [ _('Explain') ])
			]),
			this.nodes.explain
		]);
	},

	handleExplain: function() {
		const what = value('vpnpass-explain-what').split('/'), dst = value('vpnpass-explain-dst'), src = value('vpnpass-explain-src');
		if (!dst)
			return;
		const dport = what[1] ? +what[1] : undefined;
		return Promise.all([
			vc.answerOf(vc.calls.explain(what[0], dst, dport, src || undefined)),
			vc.answerOf(callUci('firewall'))
		]).then((r) => {
			dom.content(this.nodes.explain, r[0].failure ? vc.renderFailure(r[0].failure) : this.renderPath(r[0].result, sectionsOf(r[1])));
		});
	},

	renderPath: function(res, sections) {
		const v = vc.VERDICT_LABELS[res.verdict] || [ String(res.verdict || '-'), 'notice' ];
		const path = Array.isArray(res.path) ? res.path : [];
		return E('div', { 'class': 'vpnpass-explain', 'data-verdict': res.verdict || '' }, [
			E('p', {}, [ _('Verdict:'), ' ', vc.badge(v[0], v[1]), ' ', E('small', {}, [ vc.ruleText(res.decided_by) ]) ]),
			E('table', { 'class': 'table', 'id': 'vpnpass-explain-path' }, [
				E('tr', { 'class': 'tr table-titles' }, [
					E('th', { 'class': 'th' }, [ _('Where') ]),
					E('th', { 'class': 'th' }, [ _('Rule') ]),
					E('th', { 'class': 'th' }, [ _('Effect') ])
				])
			].concat(path.map((s) => {
				const deciding = isDeciding(s, res.decided_by);
				return E('tr', { 'class': 'tr vpnpass-step' + (deciding ? ' vpnpass-deciding' : ''), 'data-effect': s.effect || '',
					'data-deciding': deciding ? '1' : null, 'style': deciding ? 'font-weight:bold;outline:2px solid currentColor' : null }, [
					E('td', { 'class': 'td', 'data-title': _('Where') }, [ '%s %s / %s'.format(s.backend || '', s.table || '', s.chain || '') ]),
					E('td', { 'class': 'td', 'data-title': _('Rule') }, [
						E('code', { 'style': 'white-space:pre-wrap;word-break:break-all' }, [ s.effect == 'policy' ? _('policy of the chain') : String(s.rule || s.handle || '') ]),
						deciding ? E('div', {}, [ vc.badge(_('decides'), 'notice') ]) : E('span'),
						E('div', {}, [ ruleLink(s, sections) ])
					]),
					E('td', { 'class': 'td', 'data-title': _('Effect') }, [ String(s.effect || '') ])
				]);
			})))
		]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
