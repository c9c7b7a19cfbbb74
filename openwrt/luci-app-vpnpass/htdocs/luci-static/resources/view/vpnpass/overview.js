'use strict';
'require view';
'require form';
'require ui';
'require poll';
'require dom';
'require vpnpass.common as vc';

/*
 * VPN passthrough, the overview tab: per protocol the mode and the live
 * verdict, the NAT verdict, the VPN servers on the LAN that clients reach
 * from outside, the settings and the doctor's findings. The other tabs
 * (hosts, tools, history) load their data when opened.
 *
 * Every ubus call starts a process on the router: the page polls one call
 * (status) every POLL_SECONDS, and asks the doctor only when the page
 * opens (batched with status into one request) and when the user asks
 * again. The poll repaints the live parts only, never a form control, so
 * an open dropdown or a half-typed value survives it.
 *
 * The modes and the service settings are a form over the UCI package
 * vpnpass: Save & Apply goes through LuCI's apply with rollback, and the
 * service's reload trigger (procd) applies them. ubus "set" stays for the
 * CLI and remote management.
 */

const POLL_SECONDS = 10;

return view.extend({
	load: function() {
		/* issued in one tick: rpc.js sends the three as one batched request */
		return Promise.all([
			vc.answerOf(vc.calls.status()),
			vc.answerOf(vc.calls.doctor())
		]);
	},

	render: function(data) {
		this.kind = '';
		this.nodes = {
			notice: E('div', { 'id': 'vpnpass-notice' }),
			protocols: E('div', { 'id': 'vpnpass-protocols' }),
			nat: E('div', { 'id': 'vpnpass-nat' }),
			inbound: E('div', { 'id': 'vpnpass-inbound' }),
			findings: E('div', { 'id': 'vpnpass-findings' })
		};
		this.updateFindings(data[1]); /* first: the inbound rows use its findings */
		this.updateStatus(data[0]);

		return this.settingsMap().render().then(L.bind(function(form) {
			poll.add(L.bind(this.refreshStatus, this), POLL_SECONDS);
			return E('div', { 'id': 'vpnpass' }, [
				E('h2', {}, [ _('VPN Passthrough') ]),
				E('div', { 'class': 'cbi-map-descr' }, [ _('Lets VPN connections from devices on your network (PPTP, L2TP, IPsec) pass through this router, and explains why a VPN does not connect.') ]),
				this.nodes.notice,
				E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Passthrough now') ]), this.nodes.protocols ]),
				E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Internet connection') ]), this.nodes.nat ]),
				this.nodes.inbound,
				form,
				this.renderDiagnosis()
			]);
		}, this));
	},

	/*
	 * settingsMap is the form over /etc/config/vpnpass. form.Map asks rpcd
	 * (session access uci vpnpass write) and renders every control disabled
	 * for a read-only login, and the page footer's buttons with them.
	 */
	settingsMap: function() {
		const m = new form.Map('vpnpass');
		const s = m.section(form.NamedSection, 'main', 'agent', _('Settings'),
			_('Changes take effect with Save & Apply; if the router stops answering, LuCI rolls them back.'));
		s.addremove = false;

		vc.PROTOCOLS.forEach(function(name) {
			const o = s.option(form.ListValue, 'mode_' + name, _('%s passthrough').format(vc.protoName(name)));
			o.ucisection = name;
			o.ucioption = 'mode';
			Object.keys(vc.MODE_CHOICES).forEach((k) => o.value(k, vc.MODE_CHOICES[k]));
			o['default'] = 'default';
			o.rmempty = false;
		});

		let o = s.option(form.Flag, 'enabled', _('Service enabled'), _('Off: vpnpass removes its rules and the firewall alone decides.'));
		o['default'] = '1';
		o.rmempty = false;
		o = s.option(form.Flag, 'observe', _('Watch VPN connections'), _('Needed for the diagnosis.'));
		o['default'] = '1';
		o.rmempty = false;
		o = s.option(form.Flag, 'accounting', _('Count VPN traffic'));
		o['default'] = '1';
		o.rmempty = false;
		o = s.option(form.Value, 'stun_server', _('STUN server'), _('host:port asked for the address the internet sees; empty: none.'));
		o.placeholder = 'stun.example.net:3478';
		/* not rmempty = false: LuCI's form rejects an empty mandatory value,
		 * and empty (the shipped default) means no STUN; an empty field
		 * removes the option, which the agent reads as "" */
		o = s.option(form.Flag, 'upnp_probe', _('Ask the upstream router (UPnP)'), _('Names the router in front of this one when there is double NAT.'));
		o['default'] = '0';
		o.rmempty = false;
		o = s.option(form.Value, 'history_max_kb', _('History size (KiB)'));
		o.datatype = 'range(64,65536)';
		o.placeholder = '512';
		o = s.option(form.Value, 'history_max_days', _('Keep history (days)'));
		o.datatype = 'range(1,3650)';
		o.placeholder = '30';
		o = s.option(form.Value, 'history_persist_hours', _('Save history to flash every (hours)'), _('The history lives in RAM; it is written to flash at a clean stop and at most this often, to spare the flash.'));
		o.datatype = 'uinteger';
		o.placeholder = '6';
		o = s.option(form.Value, 'history_persist_path', _('History copy on flash'));
		o.placeholder = '/etc/vpnpass/history.db';
		return m;
	},

	/* refreshStatus is the poll: one ubus call, live parts only. */
	refreshStatus: function() {
		return vc.answerOf(vc.calls.status()).then(L.bind(this.updateStatus, this));
	},

	updateStatus: function(a) {
		const status = a.result;
		let failure = a.failure;
		if (!failure && !L.isObject(status.protocols))
			failure = { kind: 'failed', detail: _('The answer has no protocols.') };
		dom.content(this.nodes.notice, failure ? vc.renderFailure(failure) : []);
		dom.content(this.nodes.protocols, failure ? [] : this.renderProtocols(status));
		dom.content(this.nodes.nat, failure ? [] : this.renderNat(status.wan));
		dom.content(this.nodes.inbound, failure ? [] : this.renderInbound(status.inbound));
	},

	updateFindings: function(a) {
		this.findings = (a.result && Array.isArray(a.result.findings)) ? a.result.findings : [];
		dom.content(this.nodes.findings, a.failure ? vc.renderFailure(a.failure) : this.renderFindings(a.result));
	},


	renderProtocols: function(status) {
		const rows = [
			E('tr', { 'class': 'tr table-titles' }, [
				E('th', { 'class': 'th' }, [ _('Protocol') ]),
				E('th', { 'class': 'th' }, [ _('Mode') ]),
				E('th', { 'class': 'th' }, [ _('Verdict now') ]),
				E('th', { 'class': 'th' }, [ _('Decided by') ])
			])
		];
		vc.PROTOCOLS.forEach(function(name) {
			const p = status.protocols[name];
			if (!L.isObject(p))
				return;
			const v = vc.VERDICT_LABELS[p.verdict] || [ String(p.verdict), 'notice' ];
			const el = vc.decidingElement(p);
			const details = (p.elements || []).filter((e) => e.family == 'ipv4')
				.map((e) => '%s: %s'.format(vc.MATCH_TEXT[e.match] || e.match, (vc.VERDICT_LABELS[e.verdict] || [ e.verdict ])[0]));
			rows.push(E('tr', { 'class': 'tr', 'data-protocol': name }, [
				E('td', { 'class': 'td', 'data-title': _('Protocol') }, [ E('strong', {}, [ vc.protoName(name) ]) ]),
				E('td', { 'class': 'td vpnpass-mode', 'data-title': _('Mode'), 'data-mode': p.mode || '' }, [ vc.MODE_CHOICES[p.mode] || String(p.mode || '-') ]),
				E('td', { 'class': 'td', 'data-title': _('Verdict now') }, [
					E('span', { 'class': 'vpnpass-verdict', 'data-verdict': p.verdict }, [ vc.badge(v[0], v[1]) ]),
					p.drift ? E('div', {}, [ vc.badge(_('being repaired'), 'warning') ]) : E('span')
				]),
				E('td', { 'class': 'td', 'data-title': _('Decided by') }, [
					E('div', { 'class': 'vpnpass-rule' }, [ el ? vc.ruleText(el.decided_by) : '-' ]),
					E('small', {}, [ details.join('; ') ])
				])
			]));
		});
		const helper = (status.helpers || {}).pptp;
		const out = [ E('table', { 'class': 'table' }, rows) ];
		if (L.isObject(helper) && helper.state == 'absent')
			out.push(E('p', {}, [ _('This router has no PPTP helper: install the package %s to let PPTP pass.').format(helper['package'] || 'kmod-nf-nathelper-extra') ]));
		if (status.flow_offload && status.flow_offload != 'none')
			out.push(E('p', {}, [ _('Flow offloading is on (%s): the verdicts apply to new connections.').format(status.flow_offload) ]));
		out.push(E('p', { 'class': 'cbi-value-description' }, [ _('Firewall: %s').format((status.backend || {}).kind || '?') ]));
		return out;
	},

	renderNat: function(n) {
		if (!L.isObject(n))
			return E('p', {}, [ _('Unknown') ]);
		const t = vc.natText(n);
		const l = vc.NAT_LABELS[n.code] || [ _('Unknown'), 'notice' ];
		return E('div', { 'class': 'vpnpass-nat', 'data-code': n.code || '' }, [
			E('p', {}, [ vc.badge(l[0], l[1]), ' ', E('span', { 'class': 'vpnpass-nat-message', 'title': n.message || '' }, [ t[0] ]) ]),
			t[1] ? E('p', { 'class': 'vpnpass-advice' }, [ E('strong', {}, [ _('What to do:') ]), ' ', t[1] ]) : E('span')
		]);
	},

	/*
	 * renderInbound shows the VPN servers on the LAN that clients reach
	 * from the internet (status.inbound), each with what to forward on this
	 * router and on an upstream one. Nothing while the agent knows none.
	 */
	renderInbound: function(inbound) {
		const rows = [];
		vc.PROTOCOLS.forEach((name) => {
			((L.isObject(inbound) && Array.isArray(inbound[name])) ? inbound[name] : []).forEach((s) => rows.push(this.inboundRow(name, s)));
		});
		if (!rows.length)
			return [];
		return E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, [ _('VPN servers in your network') ]),
			E('p', { 'class': 'cbi-section-descr' }, [ _('Devices here that accept VPN connections from the internet, and whether those connections can reach them.') ]),
			E('table', { 'class': 'table', 'id': 'vpnpass-inbound-table' }, [
				E('tr', { 'class': 'tr table-titles' }, [
					E('th', { 'class': 'th' }, [ _('Protocol') ]),
					E('th', { 'class': 'th' }, [ _('Server') ]),
					E('th', { 'class': 'th' }, [ _('From the internet') ]),
					E('th', { 'class': 'th' }, [ _('What to do') ])
				])
			].concat(rows))
		]);
	},

	/* inboundFinding is the doctor's inbound-* finding about a server, if any. */
	inboundFinding: function(name, s) {
		return (this.findings || []).filter((f) => String(f.code).indexOf('inbound-') == 0 &&
			f.protocol == name && (f.host == s.server || f.peer == s.server))[0];
	},

	inboundRow: function(name, s) {
		const v = vc.VERDICT_LABELS[s.verdict] || [ String(s.verdict || '-'), 'notice' ];
		const t = vc.inboundText(name, this.inboundFinding(name, s) || s);
		const fwd = s.forwarded_to ? _('forwarded to %s').format(s.forwarded_to) : _('not forwarded');
		return E('tr', { 'class': 'tr vpnpass-inbound', 'data-protocol': name, 'data-server': s.server || '', 'data-code': s.code || '' }, [
			E('td', { 'class': 'td', 'data-title': _('Protocol') }, [ E('strong', {}, [ vc.protoName(name) ]) ]),
			E('td', { 'class': 'td', 'data-title': _('Server') }, [ String(s.server || '-'), E('br'), E('small', {}, [ fwd ]) ]),
			E('td', { 'class': 'td', 'data-title': _('From the internet') }, [
				E('span', { 'class': 'vpnpass-verdict', 'data-verdict': s.verdict || '' }, [ vc.badge(v[0], v[1]) ]),
				E('div', { 'class': 'vpnpass-rule' }, [ E('small', {}, [ vc.ruleText(s.decided_by) ]) ])
			]),
			E('td', { 'class': 'td', 'data-title': _('What to do') }, [
				t[0] ? E('p', { 'class': 'vpnpass-inbound-message', 'title': s.message || '' }, [ t[0] ]) : E('span'),
				E('p', { 'class': 'vpnpass-advice' }, [ t[1] || (s.verdict == 'accept' ? _('Nothing to do.') : _('Forward the protocol\'s ports to this server here, and on the router in front of this one if there is one.')) ])
			])
		]);
	},

	renderDiagnosis: function() {
		return E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, [ _('Diagnosis') ]),
			E('div', { 'class': 'cbi-section-actions' }, [
				E('button', { 'class': 'cbi-button cbi-button-action', 'id': 'vpnpass-diagnose',
					'click': ui.createHandlerFn(this, 'handleDiagnose') }, [ _('Diagnose again') ])
			]),
			this.nodes.findings
		]);
	},

	handleDiagnose: function() {
		return vc.answerOf(vc.calls.doctor()).then(L.bind(this.updateFindings, this));
	},

	renderFindings: function(doctor) {
		const list = Array.isArray(doctor.findings) ? doctor.findings.slice() : [];
		if (!list.length)
			return E('p', {}, [ _('No VPN connection seen yet. Start the VPN on a device in your network, then press "Diagnose again".') ]);
		return vc.renderFindings(list);
	}
});
