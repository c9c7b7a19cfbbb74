'use strict';
'require view';
'require ui';
'require dom';
'require vpnpass.common as vc';

/*
 * VPN passthrough, the devices tab: pick a LAN device and see its VPN
 * sessions and the doctor's findings about it, working ones included, with
 * the advice. The list comes from what the agent saw (findings and
 * sessions) and, where rpcd has luci-base's plugin, from LuCI's host hints
 * (DHCP names, MACs); without them a typed address works too.
 *
 * Opening the tab asks the doctor once (all hosts) and the host hints, in
 * one request; "Test again" asks the doctor about the chosen device only.
 * Nothing polls: every call starts a process on the router.
 */

return view.extend({
	load: function() {
		return Promise.all([
			vc.answerOf(vc.calls.doctor()),
			vc.answerOf(vc.calls.hostHints())
		]);
	},

	render: function(data) {
		const doctor = data[0];
		this.hosts = vc.hostsOf(doctor.result, data[1].result);
		this.nodes = {
			notice: E('div', { 'id': 'vpnpass-notice' }),
			result: E('div', { 'id': 'vpnpass-host-result' })
		};
		const select = E('select', { 'id': 'vpnpass-host', 'class': 'cbi-input-select',
			'change': ui.createHandlerFn(this, 'handleTest') },
			this.hosts.map((h) => E('option', { 'value': h.address, 'data-seen': h.seen ? '1' : '0' }, [ vc.hostLabel(h) ])));
		if (!this.hosts.length)
			select.appendChild(E('option', { 'value': '' }, [ _('No device seen yet') ]));
		dom.content(this.nodes.notice, doctor.failure ? vc.renderFailure(doctor.failure) : []);
		if (this.hosts.length && !doctor.failure)
			this.showHost(this.hosts[0].address, doctor.result);
		return E('div', { 'id': 'vpnpass' }, [
			E('h2', {}, [ _('VPN Passthrough') ]),
			E('div', { 'class': 'cbi-map-descr' }, [ _('Pick a device in your network to see its VPN connections, what works and what to do about what does not.') ]),
			this.nodes.notice,
			E('div', { 'class': 'cbi-section' }, [
				E('div', { 'class': 'cbi-value' }, [
					E('label', { 'class': 'cbi-value-title', 'for': 'vpnpass-host' }, [ _('Device') ]),
					E('div', { 'class': 'cbi-value-field' }, [ select ])
				]),
				E('div', { 'class': 'cbi-value' }, [
					E('label', { 'class': 'cbi-value-title', 'for': 'vpnpass-host-address' }, [ _('Or address') ]),
					E('div', { 'class': 'cbi-value-field' }, [
						E('input', { 'id': 'vpnpass-host-address', 'class': 'cbi-input-text', 'type': 'text', 'placeholder': '192.168.1.20' })
					])
				]),
				E('div', { 'class': 'cbi-section-actions' }, [
					E('button', { 'class': 'cbi-button cbi-button-action', 'id': 'vpnpass-host-test',
						'click': ui.createHandlerFn(this, 'handleTest') }, [ _('Test again') ])
				]),
				this.nodes.result
			])
		]);
	},

	/* handleTest asks the doctor about the typed address, else the chosen device. */
	handleTest: function() {
		const typed = document.getElementById('vpnpass-host-address').value.trim();
		const host = typed || document.getElementById('vpnpass-host').value;
		if (!host)
			return;
		return vc.answerOf(vc.calls.doctor(host)).then((a) => {
			if (a.failure)
				return dom.content(this.nodes.result, vc.renderFailure(a.failure));
			this.showHost(host, a.result);
		});
	},

	/* showHost renders the sessions and findings of one host from a doctor answer. */
	showHost: function(host, doctor) {
		const mine = (x) => x.host == host && !x.router && !(x.params || {}).router;
		const sessions = (Array.isArray(doctor.sessions) ? doctor.sessions : []).filter(mine);
		const findings = (Array.isArray(doctor.findings) ? doctor.findings : []).filter(mine);
		const h = this.hosts.filter((x) => x.address == host)[0] || { address: host };
		dom.content(this.nodes.result, E('div', { 'class': 'vpnpass-host', 'data-host': host }, [
			E('h3', {}, [ vc.hostLabel(h) ]),
			E('p', {}, [ E('small', {}, [ _('Checked at %s').format(vc.timeText(new Date().toISOString())) ]) ]),
			E('h4', {}, [ _('VPN connections') ]),
			sessions.length ? this.renderSessions(sessions) : E('p', {}, [ _('No VPN connection from this device seen yet. Start its VPN, then press "Test again".') ]),
			E('h4', {}, [ _('Diagnosis') ]),
			findings.length ? E('div', { 'id': 'vpnpass-host-findings' }, vc.renderFindings(findings)) : E('p', {}, [ _('Nothing to report for this device.') ])
		]));
	},

	renderSessions: function(sessions) {
		return E('table', { 'class': 'table', 'id': 'vpnpass-sessions' }, [
			E('tr', { 'class': 'tr table-titles' }, [
				E('th', { 'class': 'th' }, [ _('Protocol') ]),
				E('th', { 'class': 'th' }, [ _('Server') ]),
				E('th', { 'class': 'th' }, [ _('State') ]),
				E('th', { 'class': 'th' }, [ _('Since') ]),
				E('th', { 'class': 'th' }, [ _('Last seen') ])
			])
		].concat(sessions.map((s) => E('tr', { 'class': 'tr vpnpass-session', 'data-protocol': s.protocol || '' }, [
			E('td', { 'class': 'td', 'data-title': _('Protocol') }, [ vc.protoName(s.protocol) ]),
			E('td', { 'class': 'td', 'data-title': _('Server') }, [ String(s.peer || '-') ]),
			E('td', { 'class': 'td', 'data-title': _('State') }, [ vc.PHASE_TEXT[s.phase] || String(s.phase || '-') ]),
			E('td', { 'class': 'td', 'data-title': _('Since') }, [ vc.timeText(s.first_seen) ]),
			E('td', { 'class': 'td', 'data-title': _('Last seen') }, [ vc.timeText(s.last_seen) ])
		]))));
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
