'use strict';
'require view';
'require form';
'require rpc';
'require ui';
'require poll';
'require dom';

/*
 * VPN passthrough: per protocol the mode and the live verdict, the NAT
 * verdict, the doctor's findings and the history, from the ubus object
 * "vpnpass" (the rpcd exec plugin /usr/libexec/rpcd/vpnpass).
 *
 * Every ubus call starts a process on the router: the page polls one call
 * (status) every POLL_SECONDS, and asks the doctor and the history only
 * when the page opens (batched with status into one request) and when the
 * user asks again. The poll repaints the live parts only, never a form
 * control, so an open dropdown or a half-typed value survives it.
 *
 * The modes and the service settings are a form over the UCI package
 * vpnpass: Save & Apply goes through LuCI's apply with rollback, and the
 * service's reload trigger (procd) applies them. ubus "set" stays for the
 * CLI and remote management.
 *
 * Messages are built here from the finding or verdict code and its params
 * through translatable templates with named placeholders ({peer}), so a
 * translation can put the values where its grammar needs them. The agent's
 * English text is the fallback for codes this page does not know.
 */

const POLL_SECONDS = 10;
const HISTORY_LIMIT = 50;
const PROTOCOLS = [ 'pptp', 'l2tp', 'ipsec' ];

/*
 * No `expect`: with it rpc.js turns a numeric ubus status (4: the object
 * vpnpass does not exist, 6, 7) into {}, and a missing plugin would read
 * as an empty answer. answerOf() tells the cases apart.
 */
const callStatus = rpc.declare({ object: 'vpnpass', method: 'status' });
const callDoctor = rpc.declare({ object: 'vpnpass', method: 'doctor' });
const callHistory = rpc.declare({ object: 'vpnpass', method: 'history', params: [ 'kind', 'limit' ] });

const PROTOCOL_NAMES = { pptp: 'PPTP', l2tp: 'L2TP', ipsec: 'IPsec', openvpn: 'OpenVPN', wireguard: 'WireGuard' };

const MODE_CHOICES = {
	'default': _('Firewall decides (default)'),
	'allow': _('Allow passthrough'),
	'block': _('Block')
};

const VERDICT_LABELS = {
	accept: [ _('passes'), 'success' ],
	drop: [ _('dropped'), 'important' ],
	reject: [ _('rejected'), 'important' ],
	uncertain: [ _('uncertain'), 'warning' ]
};

const SEVERITY_LABELS = {
	ok: [ _('OK'), 'success' ],
	info: [ _('Info'), 'notice' ],
	warning: [ _('Warning'), 'warning' ],
	error: [ _('Problem'), 'important' ]
};

/* What each footprint element is, for people who never heard of it. */
const MATCH_TEXT = {
	'udp/500': _('IPsec key exchange (IKE, UDP 500)'),
	'udp/4500': _('IPsec NAT-T (UDP 4500)'),
	'esp': _('IPsec data (ESP, IP protocol 50)'),
	'ah': _('IPsec AH (IP protocol 51)'),
	'gre': _('PPTP data (GRE, IP protocol 47)'),
	'tcp/1723': _('PPTP control connection (TCP 1723)'),
	'udp/1701': _('L2TP (UDP 1701)'),
	'udp/1194': _('OpenVPN (UDP 1194)'),
	'tcp/1194': _('OpenVPN (TCP 1194)'),
	'udp/51820': _('WireGuard (UDP 51820)')
};

const NAT_CLASSES = {
	'public': _('a public address'),
	'private': _('a private address (RFC 1918)'),
	'cgnat': _('the carrier-grade NAT range (100.64.0.0/10)'),
	'link-local': _('a link-local address (169.254.0.0/16)'),
	'reserved': _('a reserved or documentation address'),
	'map-e': _('shared over MAP-E'),
	'ds-lite': _('tunnelled over DS-Lite')
};

/*
 * English templates of the doctor's findings, keyed by finding code
 * (INTERFACE.md). Each entry is [ message, advice ]; an entry may be a
 * function of the params when the wording depends on them.
 */
const FINDING_TEXT = {
	'firewall-drops': [
		_('This router\'s own firewall drops the {what} that {who_lc} sends to {peer}, so the {proto} VPN cannot connect.'),
		_('Set {proto} to "Allow passthrough" above. If you manage the firewall yourself, allow {what} from the LAN to the internet before the rule named in the details.')
	],
	'helper-unavailable': [
		_('{who} reached the PPTP server {peer}, but this router\'s system lacks PPTP passthrough support (the kernel\'s PPTP helper module), so the VPN data (GRE) cannot pass this router\'s address translation (NAT). Windows reports error 619 or 806.'),
		_('Install the package {package} on this router (some builds call it {alt_package}), then allow PPTP passthrough. Better: switch to a VPN that works through NAT (IKEv2/IPsec, OpenVPN or WireGuard); PPTP is not secure.')
	],
	'pptp-no-helper': [
		_('{who} reached the PPTP server {peer} (TCP 1723 answered), but the VPN data (GRE) does not come back: this router does not follow the PPTP connection, so it cannot tell which device the server\'s GRE belongs to. Windows reports error 619 or 806.'),
		_('Set PPTP to "Allow passthrough" above, then connect the VPN again.')
	],
	'ah-through-nat': [
		_('{who} uses IPsec AH with {peer}. AH protects the IP addresses, which this router\'s address translation (NAT) must change, so AH can never work through NAT.'),
		_('Ask the VPN server\'s administrator for ESP with NAT-T instead of AH, or connect over IPv6, which needs no NAT.')
	],
	'ike-unanswered': [
		_('{who} sent an IPsec key exchange (IKE, {port}) to {peer} but nothing came back. The server is down or unreachable, or something between this router and the server blocks {port}.'),
		_('Check the server address in the VPN settings. If it is right, ask the VPN server\'s administrator whether the server is running, and ask whoever runs the network beyond this router (an upstream router, your company network or your internet provider) to allow UDP 500 and UDP 4500 to {peer}.')
	],
	'natt-blocked': [
		_('{who} sent IPsec NAT-T (UDP 4500) to {peer} but nothing came back, although the server answered on UDP 500. Something between this router and the server blocks UDP 4500.'),
		_('This router lets UDP 4500 through. Ask whoever runs the network beyond it (an upstream router, your company network or your internet provider) to allow UDP 4500 to {peer}, and ask the VPN server\'s administrator whether the server accepts UDP 4500.')
	],
	'esp-blocked': [
		_('{who} sent IPsec data (ESP, IP protocol 50) to {peer} but nothing came back. Something between this router and the server blocks ESP.'),
		_('Turn on NAT-T (also called NAT traversal or UDP encapsulation) on the VPN client and the server, so the data travels in UDP 4500; or ask the network owner or internet provider to allow ESP (IP protocol 50) to {peer}.')
	],
	'gre-blocked': [
		_('{who} reached the PPTP server {peer} (TCP 1723 answered) and this router follows the connection, but the VPN data (GRE, IP protocol 47) never came back. Something beyond this router blocks GRE, often an upstream router without PPTP passthrough. Windows reports error 619 or 806.'),
		_('Turn on PPTP or VPN passthrough on the upstream router or modem (or put it into bridge mode), or ask your internet provider whether GRE is blocked. A VPN that works through NAT (IKEv2/IPsec, OpenVPN, WireGuard) avoids the problem.')
	],
	'l2tp-unanswered': [
		_('{who} sent L2TP (UDP 1701) to {peer} but nothing came back. The server is down or unreachable, or something between this router and the server blocks UDP 1701.'),
		_('Check the server address and the VPN type: most servers expect L2TP/IPsec (with a pre-shared key or certificate), not plain L2TP. If they are right, ask the server\'s administrator whether it is running.')
	],
	'pptp-unanswered': [
		_('{who} tried to open a PPTP connection (TCP 1723) to {peer} but got no answer. The server is down or unreachable, or something between this router and the server blocks TCP 1723.'),
		_('Check the server address in the VPN settings, then ask the VPN server\'s administrator whether PPTP is still offered (many servers dropped it) and ask the network owner or provider to allow TCP 1723.')
	],
	'openvpn-unanswered': [
		_('{who} sent OpenVPN ({port}) to {peer} but nothing came back. The server is down or unreachable, or something beyond this router blocks {port}.'),
		_('Check the server address and port in the OpenVPN profile. If they are right, ask the server\'s administrator whether it is running, or try the server\'s TCP 443 profile if it offers one.')
	],
	'wireguard-unanswered': [
		_('{who} sent WireGuard ({port}) to {peer} but nothing came back. The server ignores unknown keys silently, so the keys may be wrong, the server may be down, or something beyond this router blocks the port.'),
		_('Check the endpoint address, port and both public keys in the WireGuard configuration; then ask the server\'s administrator whether the peer is configured.')
	],
	'ike-auth-failed': [
		_('{who} and the IPsec server {peer} completed the first part of the key exchange (the server answered on {port}), but the connection ended before any VPN data passed. The network path works: the server most likely refused the login.'),
		_('Check the user name, password, pre-shared key or certificate and the VPN type in the client\'s settings, or ask the VPN server\'s administrator to look in the server\'s log for the reason it refused the connection.')
	],
	'natt-not-negotiated': [
		_('{who} exchanged IPsec keys with {peer} on UDP 500, but they never switched to UDP 4500 (NAT-T), although this router translates addresses (NAT). IPsec data without NAT-T (raw ESP) does not cross NAT reliably.'),
		_('Turn on NAT-T (also called NAT traversal or UDP encapsulation) on the VPN client, and ask the VPN server\'s administrator to allow it on the server.')
	],
	'l2tp-without-ipsec': [
		_('{who} sent L2TP (UDP 1701) to {peer} without IPsec first, and the connection never carried data. Most servers refuse L2TP without IPsec.'),
		_('Set the VPN type to "L2TP/IPsec" and enter the pre-shared key or certificate the server expects.')
	],
	'esp-multiple-clients': [
		_('{who} sends IPsec data without NAT-T (raw ESP) to {peer}, and so does {others}. Behind one address translation (NAT) only one device at a time can do that; this one gets no answer.'),
		_('Turn on NAT-T (NAT traversal, UDP encapsulation) on the VPN clients and the server, so every device\'s data travels in its own UDP 4500 flow; until then, connect one device at a time.')
	],
	'vpn-behind-double-nat': [
		(p) => (p.nat == 'cgnat')
			? _('This router\'s internet address {wan_address} is in the carrier-grade NAT range (100.64.0.0/10): your internet provider translates addresses again, so the VPN crosses two NATs.')
			: _('This router\'s internet-side address {wan_address} is not the one the internet sees: another router (or modem) in front of this one translates addresses again (double NAT), so that device needs VPN passthrough too.'),
		(p) => (p.nat == 'cgnat')
			? _('Use NAT-T (UDP 4500), OpenVPN or WireGuard, which cross carrier-grade NAT; for PPTP or raw ESP ask your internet provider for a public IPv4 address.')
			: (p.upstream
				? _('Turn on VPN passthrough ({proto}) on the router or modem in front of this one ({upstream}), or put that device into bridge mode so this router gets a public address.')
				: _('Turn on VPN passthrough ({proto}) on the router or modem in front of this one, or put that device into bridge mode so this router gets a public address.'))
	],
	'ipv4-sharing': [
		_('This internet line shares its IPv4 address with other customers (MAP-E or DS-Lite): only TCP, UDP and ping on a limited range of ports get through, so PPTP (GRE) and IPsec without NAT-T (raw ESP) cannot work at all.'),
		_('Use a VPN over UDP or TCP: IKEv2/IPsec with NAT-T, OpenVPN or WireGuard. For PPTP or raw ESP, ask your internet provider for a fixed IPv4 address option.')
	],
	'vpn-ok': [
		(p) => p.natt
			? _('The {proto} VPN from {who_lc} to {peer} works: the server answers and data flows both ways (through NAT-T, UDP 4500).')
			: _('The {proto} VPN from {who_lc} to {peer} works: the server answers and data flows both ways.'),
		_('Nothing to do.')
	]
};

/* English templates of the NAT verdict, keyed by its code. */
const NAT_TEXT = {
	'nat-ok': [
		_('The WAN address {address} on {device} is {class}: this router is the only NAT between the LAN and the internet.'),
		_('Nothing to change upstream: VPN passthrough depends on this router alone.')
	],
	'double-nat': [
		_('The WAN address {address} on {device} is {class}: {upstream} also does NAT, so VPN traffic from the LAN is translated twice (double NAT).'),
		_('Put {upstream} into bridge mode or IP passthrough, so that this router gets the public address itself. If that is not possible, turn on VPN passthrough (PPTP, IPsec) on it as well, or use a VPN that crosses NAT well: IPsec with NAT-T, OpenVPN or WireGuard.')
	],
	'cgnat': [
		_('The WAN address {address} on {device} is in {class}: the internet provider translates it once more and shares one public IPv4 address among many customers.'),
		_('Ask the internet provider for a public IPv4 address (often available on request or as an option), or use IPv6, or a VPN that runs over UDP or TCP and is started from the LAN (IPsec with NAT-T, OpenVPN, WireGuard). PPTP and IPsec without NAT-T rarely survive a carrier NAT.')
	],
	'ipv4-sharing': [
		_('IPv4 reaches the internet {class} on {device}: the public IPv4 address is shared with other customers, and only TCP, UDP and ICMP on this line\'s ports get through.'),
		_('PPTP (GRE) and IPsec without NAT-T (raw ESP) cannot work over this line at all, whatever any router allows. What works: IPsec with NAT-T (also L2TP/IPsec), OpenVPN, WireGuard, or any VPN over IPv6.')
	]
};

const HISTORY_KINDS = [
	[ '', _('All events') ],
	[ 'passthrough.', _('Passthrough changes') ],
	[ 'vpn.', _('VPN findings') ],
	[ 'nat.', _('NAT changes') ],
	[ 'wan.', _('WAN changes') ],
	[ 'firewall.', _('Firewall repairs') ],
	[ 'helper.', _('Connection helpers') ],
	[ 'agent.', _('Service start and stop') ],
	[ 'error', _('Errors') ]
];

/*
 * fill replaces {name} placeholders (LuCI's String.format has no
 * positional %1$s, and translations must be free to reorder); the result
 * is used as text, never as HTML.
 */
function fill(template, vars) {
	return String(template).replace(/\{(\w+)\}/g, (m, k) => (vars[k] != null && vars[k] !== '') ? String(vars[k]) : m);
}

function pick(entry, p) {
	return (typeof(entry) == 'function') ? entry(p) : entry;
}

function badge(text, cls) {
	return E('span', { 'class': 'label ' + (cls || 'notice') }, [ text ]);
}

/*
 * answerOf settles a call into { result } or { failure: { kind, detail } }.
 * The kinds a user can act on differently:
 *   missing: no ubus object vpnpass (plugin not installed, rpcd not
 *            restarted): ubus status 3/4 through LuCI's endpoint,
 *            JSON-RPC -32000 through uhttpd's /ubus;
 *   denied:  the login lacks the ACL: JSON-RPC -32002 (status 6 on old
 *            endpoints);
 *   timeout: no answer in time: ubus status 7, -32003, or the browser
 *            gave up (rpc.js rejects with a plain Error: aborted/timeout);
 *   stopped: the plugin answered that the agent is not running;
 *   failed:  the agent answered with another error.
 */
const UBUS_FAILURES = { 3: 'missing', 4: 'missing', 6: 'denied', 7: 'timeout' };
const JSONRPC_FAILURES = { '-32000': 'missing', '-32601': 'missing', '-32002': 'denied', '-32003': 'timeout' };

function answerOf(promise) {
	return Promise.resolve(promise).then((res) => {
		if (typeof(res) == 'number')
			return { failure: { kind: UBUS_FAILURES[res] || 'failed', detail: _('ubus status %d').format(res) } };
		if (!L.isObject(res))
			return { failure: { kind: 'failed', detail: String(res) } };
		if (L.isObject(res.error))
			return { failure: { kind: (res.error.code == 'not_available') ? 'stopped' : 'failed',
				detail: res.error.message || res.error.code || '' } };
		return { result: res };
	}, (err) => {
		const msg = String((err && err.message) || err).split('\n')[0];
		const m = /failed with error (-?\d+)/.exec(msg);
		if (m)
			return { failure: { kind: JSONRPC_FAILURES[m[1]] || 'failed', detail: msg } };
		return { failure: { kind: 'timeout', detail: msg } };
	});
}

const FAILURE_TEXT = {
	missing: _('The router has no vpnpass service to ask (the ubus object "vpnpass" is missing): install the vpnpass package, or restart rpcd (/etc/init.d/rpcd restart) if it was just installed.'),
	denied: _('Access denied: this login may not read the VPN passthrough status. Ask the administrator for the luci-app-vpnpass permission.'),
	timeout: _('The router did not answer in time: the vpnpass service or rpcd is busy or hung. The page asks again in a few seconds.'),
	stopped: _('The vpnpass service is not running. Start it under System → Startup, or run /etc/init.d/vpnpass start.'),
	failed: _('The vpnpass service reported an error.')
};

function renderFailure(f) {
	return E('div', { 'class': 'alert-message warning vpnpass-failure', 'data-failure': f.kind }, [
		E('p', {}, [ E('strong', {}, [ FAILURE_TEXT[f.kind] || FAILURE_TEXT.failed ]) ]),
		f.detail ? E('p', {}, [ E('small', {}, [ f.detail ]) ]) : E('span')
	]);
}

function protoName(p) {
	return PROTOCOL_NAMES[p] || String(p || '').toUpperCase();
}

function portText(p) {
	return (p.transport && p.port != null) ? '%s %s'.format(String(p.transport).toUpperCase(), p.port) : null;
}

/* who names the device a finding is about, at the start of a sentence. */
function whoText(f, p) {
	if (p.router)
		return _('This router (%s)').format(f.host);
	if (f.host_name)
		return _('Your device %s (%s)').format(f.host_name, f.host);
	return _('Your device %s').format(f.host);
}

function findingVars(f) {
	const p = L.isObject(f.params) ? f.params : {};
	const matches = Array.isArray(p.matches) ? p.matches : [];
	const who = whoText(f, p);
	return Object.assign({}, p, {
		who: who,
		/* English puts "your device" mid-sentence in lower case */
		who_lc: who.charAt(0).toLowerCase() + who.slice(1),
		peer: f.peer || p.peer,
		proto: protoName(f.protocol || p.protocol),
		what: matches.length ? matches.map((m) => MATCH_TEXT[m] || m).reduce((a, b) => _('%s and %s').format(a, b)) : null,
		port: portText(p) || (p.port != null ? 'UDP %s'.format(p.port) : null),
		others: Array.isArray(p.others) ? p.others.join(', ') : p.others
	});
}

/* findingText returns [ message, advice ]: our template, else the agent's. */
function findingText(f) {
	const entry = FINDING_TEXT[f.code];
	if (!entry)
		return [ f.message || f.code, f.advice || '' ];
	const vars = findingVars(f);
	return [ fill(pick(entry[0], vars), vars), fill(pick(entry[1], vars), vars) ];
}

function upstreamText(u) {
	u = L.isObject(u) ? u : {};
	if (u.model && u.address)
		return fill(_('the upstream router ({model} at {address})'), u);
	if (u.model)
		return _('the upstream router (%s)').format(u.model);
	if (u.address)
		return _('the upstream router at %s').format(u.address);
	return _('the upstream router (the internet provider\'s modem or router)');
}

function natText(n) {
	const entry = NAT_TEXT[n.code];
	if (!entry)
		return [ n.message || _('No IPv4 connection to the internet.'), n.advice || '' ];
	const vars = {
		address: (n.addresses || [])[0] || '?',
		device: n.wan_device || '?',
		'class': NAT_CLASSES[n['class']] || n['class'],
		upstream: upstreamText(n.upstream)
	};
	const out = [ fill(entry[0], vars), fill(entry[1], vars) ];
	if (n.public_address)
		out[0] += ' ' + _('Seen from the internet as %s.').format(n.public_address);
	if (n.ipv6_global && n.code != 'nat-ok')
		out[1] += ' ' + _('This WAN has a global IPv6 address: a VPN over IPv6 needs no NAT passthrough at all.');
	return out;
}

const NAT_LABELS = {
	'nat-ok': [ _('Single NAT'), 'success' ],
	'double-nat': [ _('Double NAT'), 'warning' ],
	'cgnat': [ _('Carrier-grade NAT'), 'warning' ],
	'ipv4-sharing': [ _('Shared IPv4 (MAP-E / DS-Lite)'), 'important' ]
};

/* ruleText says which rule decided an element's verdict. */
function ruleText(d) {
	if (!L.isObject(d))
		return _('no rule matched');
	if (d.policy)
		return fill(_('policy {policy} of chain {chain} in table {table}'), d);
	let s = fill(_('rule {handle} in chain {chain}, table {table}'), d);
	if (d.comment)
		s += ' (%s)'.format(d.comment);
	return s;
}

/* decidingElement is the IPv4 element whose verdict the protocol reports. */
function decidingElement(p) {
	const els = (p.elements || []).filter((e) => e.family == 'ipv4');
	return els.filter((e) => e.verdict == p.verdict)[0] || els[0] || (p.elements || [])[0];
}

const EVENT_TEXT = {
	'passthrough.changed': (ev, d) => _('%s passthrough: %s → %s').format(protoName(ev.protocol), MODE_CHOICES[d.from] || d.from || '-', MODE_CHOICES[d.to] || d.to),
	'agent.started': () => _('vpnpass service started'),
	'agent.stopped': () => _('vpnpass service stopped'),
	'firewall.drift_repaired': (ev) => _('Firewall rules for %s were changed by someone else and have been restored').format(protoName(ev.protocol)),
	'nat.changed': (ev, d) => NAT_LABELS[d.code] ? _('Internet connection is now: %s').format(NAT_LABELS[d.code][0]) : ev.message
};

function eventText(ev) {
	const fn = EVENT_TEXT[ev.kind];
	const d = L.isObject(ev.details) ? ev.details : {};
	if (ev.kind == 'vpn.finding' && d.code && FINDING_TEXT[d.code])
		return findingText(Object.assign({ params: d.params || {} }, d))[0];
	return fn ? fn(ev, d) : (ev.message || ev.kind);
}

function timeText(t) {
	const d = t ? new Date(t) : null;
	/* in the language of the page, as LuCI sets it on <html lang> */
	return (d && !isNaN(d)) ? d.toLocaleString(document.documentElement.lang || undefined) : '-';
}

return view.extend({
	load: function() {
		/* issued in one tick: rpc.js sends the three as one batched request */
		return Promise.all([
			answerOf(callStatus()),
			answerOf(callDoctor()),
			answerOf(callHistory('', HISTORY_LIMIT))
		]);
	},

	render: function(data) {
		this.kind = '';
		this.nodes = {
			notice: E('div', { 'id': 'vpnpass-notice' }),
			protocols: E('div', { 'id': 'vpnpass-protocols' }),
			nat: E('div', { 'id': 'vpnpass-nat' }),
			findings: E('div', { 'id': 'vpnpass-findings' }),
			history: E('div', { 'id': 'vpnpass-history' })
		};
		this.updateStatus(data[0]);
		this.updateFindings(data[1]);
		this.updateHistory(data[2]);

		return this.settingsMap().render().then(L.bind(function(form) {
			poll.add(L.bind(this.refreshStatus, this), POLL_SECONDS);
			return E('div', { 'id': 'vpnpass' }, [
				E('h2', {}, [ _('VPN Passthrough') ]),
				E('div', { 'class': 'cbi-map-descr' }, [ _('Lets VPN connections from devices on your network (PPTP, L2TP, IPsec) pass through this router, and explains why a VPN does not connect.') ]),
				this.nodes.notice,
				E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Passthrough now') ]), this.nodes.protocols ]),
				E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ _('Internet connection') ]), this.nodes.nat ]),
				form,
				this.renderDiagnosis(),
				this.renderHistorySection()
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

		PROTOCOLS.forEach(function(name) {
			const o = s.option(form.ListValue, 'mode_' + name, _('%s passthrough').format(protoName(name)));
			o.ucisection = name;
			o.ucioption = 'mode';
			Object.keys(MODE_CHOICES).forEach((k) => o.value(k, MODE_CHOICES[k]));
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
		return answerOf(callStatus()).then(L.bind(this.updateStatus, this));
	},

	updateStatus: function(a) {
		const status = a.result;
		let failure = a.failure;
		if (!failure && !L.isObject(status.protocols))
			failure = { kind: 'failed', detail: _('The answer has no protocols.') };
		dom.content(this.nodes.notice, failure ? renderFailure(failure) : []);
		dom.content(this.nodes.protocols, failure ? [] : this.renderProtocols(status));
		dom.content(this.nodes.nat, failure ? [] : this.renderNat(status.wan));
	},

	updateFindings: function(a) {
		dom.content(this.nodes.findings, a.failure ? renderFailure(a.failure) : this.renderFindings(a.result));
	},

	updateHistory: function(a) {
		dom.content(this.nodes.history, a.failure ? renderFailure(a.failure) : this.renderHistory(a.result));
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
		PROTOCOLS.forEach(function(name) {
			const p = status.protocols[name];
			if (!L.isObject(p))
				return;
			const v = VERDICT_LABELS[p.verdict] || [ String(p.verdict), 'notice' ];
			const el = decidingElement(p);
			const details = (p.elements || []).filter((e) => e.family == 'ipv4')
				.map((e) => '%s: %s'.format(MATCH_TEXT[e.match] || e.match, (VERDICT_LABELS[e.verdict] || [ e.verdict ])[0]));
			rows.push(E('tr', { 'class': 'tr', 'data-protocol': name }, [
				E('td', { 'class': 'td', 'data-title': _('Protocol') }, [ E('strong', {}, [ protoName(name) ]) ]),
				E('td', { 'class': 'td vpnpass-mode', 'data-title': _('Mode'), 'data-mode': p.mode || '' }, [ MODE_CHOICES[p.mode] || String(p.mode || '-') ]),
				E('td', { 'class': 'td', 'data-title': _('Verdict now') }, [
					E('span', { 'class': 'vpnpass-verdict', 'data-verdict': p.verdict }, [ badge(v[0], v[1]) ]),
					p.drift ? E('div', {}, [ badge(_('being repaired'), 'warning') ]) : E('span')
				]),
				E('td', { 'class': 'td', 'data-title': _('Decided by') }, [
					E('div', { 'class': 'vpnpass-rule' }, [ el ? ruleText(el.decided_by) : '-' ]),
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
		const t = natText(n);
		const l = NAT_LABELS[n.code] || [ _('Unknown'), 'notice' ];
		return E('div', { 'class': 'vpnpass-nat', 'data-code': n.code || '' }, [
			E('p', {}, [ badge(l[0], l[1]), ' ', E('span', { 'class': 'vpnpass-nat-message', 'title': n.message || '' }, [ t[0] ]) ]),
			t[1] ? E('p', { 'class': 'vpnpass-advice' }, [ E('strong', {}, [ _('What to do:') ]), ' ', t[1] ]) : E('span')
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
		return answerOf(callDoctor()).then(L.bind(this.updateFindings, this));
	},

	renderFindings: function(doctor) {
		const list = Array.isArray(doctor.findings) ? doctor.findings.slice() : [];
		if (!list.length)
			return E('p', {}, [ _('No VPN connection seen yet. Start the VPN on a device in your network, then press "Diagnose again".') ]);
		list.sort((a, b) => String(b.last_seen || '').localeCompare(String(a.last_seen || '')));
		return list.map((f) => {
			const t = findingText(f);
			const s = SEVERITY_LABELS[f.severity] || [ String(f.severity), 'notice' ];
			return E('div', { 'class': 'cbi-section-node vpnpass-finding', 'data-code': f.code }, [
				E('p', {}, [ badge(s[0], s[1]), ' ', E('strong', {}, [ protoName(f.protocol) ]), ' · ', E('small', {}, [ timeText(f.last_seen) ]) ]),
				E('p', { 'class': 'vpnpass-finding-message', 'title': f.message || '' }, [ t[0] ]),
				t[1] ? E('p', { 'class': 'vpnpass-advice' }, [ E('strong', {}, [ _('What to do:') ]), ' ', E('span', { 'class': 'vpnpass-advice-text', 'title': f.advice || '' }, [ t[1] ]) ]) : E('span')
			]);
		});
	},

	renderHistorySection: function() {
		const kindSelect = E('select', {
			'id': 'vpnpass-history-kind',
			'class': 'cbi-input-select',
			'change': ui.createHandlerFn(this, 'handleKind')
		}, HISTORY_KINDS.map((k) => E('option', { 'value': k[0] }, [ k[1] ])));
		return E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, [ _('History') ]),
			E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title', 'for': 'vpnpass-history-kind' }, [ _('Show') ]),
				E('div', { 'class': 'cbi-value-field' }, [ kindSelect, ' ',
					E('button', { 'class': 'cbi-button cbi-button-action', 'id': 'vpnpass-history-refresh',
						'click': ui.createHandlerFn(this, 'handleKind') }, [ _('Refresh') ]) ])
			]),
			this.nodes.history
		]);
	},

	renderHistory: function(history) {
		const events = Array.isArray(history.events) ? history.events : [];
		if (!events.length)
			return E('p', {}, [ _('No events.') ]);
		return E('table', { 'class': 'table', 'id': 'vpnpass-history-table' }, [
			E('tr', { 'class': 'tr table-titles' }, [
				E('th', { 'class': 'th' }, [ _('Time') ]),
				E('th', { 'class': 'th' }, [ _('Event') ]),
				E('th', { 'class': 'th' }, [ _('Protocol') ]),
				E('th', { 'class': 'th' }, [ _('What happened') ])
			])
		].concat(events.map((ev) => E('tr', { 'class': 'tr', 'data-kind': ev.kind }, [
			E('td', { 'class': 'td' }, [ timeText(ev.time) ]),
			E('td', { 'class': 'td' }, [ String(ev.kind) ]),
			E('td', { 'class': 'td' }, [ ev.protocol ? protoName(ev.protocol) : '' ]),
			E('td', { 'class': 'td', 'title': ev.message || '' }, [ String(eventText(ev)) ])
		]))));
	},

	handleKind: function() {
		this.kind = document.getElementById('vpnpass-history-kind').value;
		return answerOf(callHistory(this.kind, HISTORY_LIMIT)).then(L.bind(this.updateHistory, this));
	}
});
