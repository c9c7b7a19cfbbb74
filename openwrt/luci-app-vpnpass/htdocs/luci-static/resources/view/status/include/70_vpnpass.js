'use strict';
'require baseclass';
'require vpnpass.common as vc';

/*
 * Status → Overview: one line per protocol (mode and verdict now) and the
 * NAT verdict, from one ubus call (status) each time LuCI refreshes the
 * overview, with a link to the full page. Hidden when the login may not
 * read vpnpass or the plugin is not installed, as other includes do.
 */

return baseclass.extend({
	title: _('VPN Passthrough'),

	load: function() {
		return vc.answerOf(vc.calls.status());
	},

	render: function(a) {
		if (a.failure && (a.failure.kind == 'denied' || a.failure.kind == 'missing'))
			return null;
		if (a.failure || !L.isObject(a.result.protocols))
			return vc.renderFailure(a.failure || { kind: 'failed' });
		const st = a.result;
		const rows = vc.PROTOCOLS.filter((name) => L.isObject(st.protocols[name])).map((name) => {
			const p = st.protocols[name];
			const v = vc.VERDICT_LABELS[p.verdict] || [ String(p.verdict), 'notice' ];
			return E('tr', { 'class': 'tr', 'data-protocol': name }, [
				E('td', { 'class': 'td left', 'width': '33%' }, [ vc.protoName(name) ]),
				E('td', { 'class': 'td left' }, [
					E('span', { 'class': 'vpnpass-verdict', 'data-verdict': p.verdict }, [ vc.badge(v[0], v[1]) ]), ' ',
					E('small', {}, [ vc.MODE_CHOICES[p.mode] || String(p.mode || '') ])
				])
			]);
		});
		const n = L.isObject(st.wan) ? st.wan : {};
		const l = vc.NAT_LABELS[n.code] || [ _('Unknown'), 'notice' ];
		rows.push(E('tr', { 'class': 'tr', 'data-nat': n.code || '' }, [
			E('td', { 'class': 'td left', 'width': '33%' }, [ _('Internet connection') ]),
			E('td', { 'class': 'td left' }, [ vc.badge(l[0], l[1]), ' ', E('a', { 'href': L.url('admin', 'network', 'vpnpass') }, [ _('Details') ]) ])
		]));
		return E('table', { 'class': 'table', 'id': 'vpnpass-status-include' }, rows);
	}
});
