'use strict';
'require baseclass';
'require rpc';
'require vpnpass.catalog as catalog';

/*
 * What the vpnpass views (overview, hosts, tools, history) and the Status
 * overview include share: the ubus calls, how a call's failure reads, and
 * the texts built from codes and params.
 *
 * Every ubus call starts a process on the router (the rpcd exec plugin
 * /usr/libexec/rpcd/vpnpass): a view polls one call (status) at most, and
 * asks for anything else when it opens or when the user asks.
 *
 * Messages are built here from the finding or verdict code and its params
 * through translatable templates with named placeholders ({peer}), so a
 * translation can put the values where its grammar needs them. The agent's
 * English text is the fallback for codes this page does not know.
 *
 * No `expect` on the calls: with it rpc.js turns a numeric ubus status (4:
 * the object vpnpass does not exist, 6, 7) into {}, and a missing plugin
 * would read as an empty answer. answerOf() tells the cases apart.
 */

const PROTOCOLS = catalog.PROTOCOLS;
const PROTOCOL_NAMES = catalog.PROTOCOL_NAMES;
const MATCH_TEXT = catalog.MATCH_TEXT;
const FINDING_TEXT = catalog.FINDING_TEXT;

const calls = {
	status: rpc.declare({ object: 'vpnpass', method: 'status' }),
	doctor: rpc.declare({ object: 'vpnpass', method: 'doctor', params: [ 'host' ] }),
	history: rpc.declare({ object: 'vpnpass', method: 'history', params: [ 'kind', 'limit', 'protocol', 'since', 'until', 'before' ] }),
	probe: rpc.declare({ object: 'vpnpass', method: 'probe', params: [ 'host', 'protocol' ] }),
	explain: rpc.declare({ object: 'vpnpass', method: 'explain', params: [ 'proto', 'dst', 'dport', 'src' ] }),
	/* luci-base's host names (DHCP leases, /etc/ethers, neighbours): only
	 * under real rpcd with the luci plugin; the hosts view does without */
	hostHints: rpc.declare({ object: 'luci-rpc', method: 'getHostHints' })
};

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

const NAT_CLASSES = {
	'public': _('a public address'),
	'private': _('a private address (RFC 1918)'),
	'cgnat': _('the carrier-grade NAT range (100.64.0.0/10)'),
	'link-local': _('a link-local address (169.254.0.0/16)'),
	'reserved': _('a reserved or documentation address'),
	'map-e': _('shared over MAP-E'),
	'ds-lite': _('tunnelled over DS-Lite')
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

/* pick returns a text, or of a generated list of [ param, value, text ] the
 * first variant that holds (value null: the param is set). */
function pick(entry, p) {
	if (!Array.isArray(entry))
		return entry;
	const v = entry.find((v) => v[0] == null || (v[1] == null ? !!p[v[0]] : String(p[v[0]]) == v[1]));
	return v ? v[2] : '';
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

/* ORIGIN_TEXT names who made a change (passthrough.changed details.origin). */
const ORIGIN_TEXT = {
	cli: _('on the router\'s command line'),
	ubus: _('over ubus'),
	rpcd: _('in LuCI or remote management'),
	config: _('by a settings change (Save & Apply or uci)')
};

/* originText says who made a change, or '' when the event does not say. */
function originText(ev) {
	const d = L.isObject(ev.details) ? ev.details : {};
	if (!d.origin)
		return '';
	const how = ORIGIN_TEXT[d.origin] || String(d.origin);
	return d.user ? _('%s, by the login %s').format(how, d.user) : how;
}

function eventText(ev) {
	const fn = EVENT_TEXT[ev.kind];
	const d = L.isObject(ev.details) ? ev.details : {};
	if (ev.kind == 'vpn.finding' && d.code && FINDING_TEXT[d.code])
		/* the event carries who and where; details the code and params */
		return findingText(Object.assign({ params: d.params || {}, host: ev.host, peer: ev.peer, protocol: ev.protocol }, d))[0];
	return fn ? fn(ev, d) : (ev.message || ev.kind);
}

function timeText(t) {
	const d = t ? new Date(t) : null;
	/* in the language of the page, as LuCI sets it on <html lang> */
	return (d && !isNaN(d)) ? d.toLocaleString(document.documentElement.lang || undefined) : '-';
}


/* probeText explains one probe result: what came back and what it means. */
function probeText(r) {
	const meaning = catalog.PROBE_TEXT[r.outcome] || '';
	return r.detail ? '%s (%s)'.format(meaning, r.detail) : meaning;
}

/* PHASE_TEXT says how far a session got (doctor's sessions[].phase). */
const PHASE_TEXT = {
	'none': _('nothing yet'),
	'control-seen': _('connecting, no answer yet'),
	'control-answered': _('the server answered'),
	'natt-seen': _('switched to NAT-T (UDP 4500)'),
	'data-seen': _('VPN data sent, no answer yet'),
	'data-answered': _('VPN data flows both ways'),
	'ended': _('ended')
};

const OUTCOME_LABELS = {
	answered: [ _('answered'), 'success' ],
	refused: [ _('refused'), 'warning' ],
	silent: [ _('silent'), 'important' ]
};

/* inboundText is a Finding-like text for an inbound server's code: the
 * catalog's template when this page has it, else the agent's message. The
 * peer of an inbound finding is the client on the internet (params.peer when
 * the entry is not a finding); the server is the LAN host. */
function inboundText(protocol, s) {
	if (s.code && FINDING_TEXT[s.code]) {
		const params = Object.assign({ server: s.server, forwarded_to: s.forwarded_to }, s.params || {});
		return findingText(Object.assign({ protocol: protocol, host: s.server }, s, { params: params }));
	}
	return [ s.message || '', s.advice || '' ];
}

/* hostLabel names a LAN device: its name, then its address and MAC. */
function hostLabel(h) {
	const extra = [ h.address, h.mac ].filter((x) => x && x != h.name);
	return h.name ? '%s (%s)'.format(h.name, extra.join(', ')) : extra.join(', ');
}

/*
 * hostsOf merges what the agent knows (the doctor's findings and sessions)
 * with luci-rpc's host hints into [ { address, name, mac, seen } ], devices
 * the agent saw first, then the rest by name.
 */
function hostsOf(doctor, hints) {
	const byAddr = {};
	const add = (addr, name, mac, seen) => {
		if (!addr)
			return;
		const h = byAddr[addr] || (byAddr[addr] = { address: addr, name: '', mac: '', seen: false });
		h.name = h.name || name || '';
		h.mac = h.mac || mac || '';
		h.seen = h.seen || !!seen;
	};
	const d = L.isObject(doctor) ? doctor : {};
	(Array.isArray(d.findings) ? d.findings : []).forEach((f) => { if (!(f.params || {}).router) add(f.host, f.host_name, f.host_mac, true); });
	(Array.isArray(d.sessions) ? d.sessions : []).forEach((s) => { if (!s.router) add(s.host, s.host_name, s.host_mac, true); });
	if (L.isObject(hints))
		Object.keys(hints).forEach((mac) => {
			const h = hints[mac] || {};
			(Array.isArray(h.ipaddrs) ? h.ipaddrs : []).forEach((a) => add(a, h.name, mac, false));
		});
	return Object.keys(byAddr).map((a) => byAddr[a]).sort((a, b) =>
		(b.seen - a.seen) || (a.name || '~').localeCompare(b.name || '~') || a.address.localeCompare(b.address, undefined, { numeric: true }));
}

/* renderFindings lists findings as cards, the newest first. */
function renderFindings(findings) {
	return findings.slice().sort((a, b) => String(b.last_seen || '').localeCompare(String(a.last_seen || ''))).map((f) => {
		const t = findingText(f);
		const s = SEVERITY_LABELS[f.severity] || [ String(f.severity), 'notice' ];
		return E('div', { 'class': 'cbi-section-node vpnpass-finding', 'data-code': f.code, 'data-host': f.host || '' }, [
			E('p', {}, [ badge(s[0], s[1]), ' ', E('strong', {}, [ protoName(f.protocol) ]), ' · ', E('small', {}, [ timeText(f.last_seen) ]) ]),
			E('p', { 'class': 'vpnpass-finding-message', 'title': f.message || '' }, [ t[0] ]),
			t[1] ? E('p', { 'class': 'vpnpass-advice' }, [ E('strong', {}, [ _('What to do:') ]), ' ', E('span', { 'class': 'vpnpass-advice-text', 'title': f.advice || '' }, [ t[1] ]) ]) : E('span')
		]);
	});
}

return baseclass.extend({
	calls: calls,
	PROTOCOLS: PROTOCOLS,
	PROTOCOL_NAMES: PROTOCOL_NAMES,
	MATCH_TEXT: MATCH_TEXT,
	MODE_CHOICES: MODE_CHOICES,
	VERDICT_LABELS: VERDICT_LABELS,
	SEVERITY_LABELS: SEVERITY_LABELS,
	NAT_LABELS: NAT_LABELS,
	OUTCOME_LABELS: OUTCOME_LABELS,
	PHASE_TEXT: PHASE_TEXT,
	HISTORY_KINDS: HISTORY_KINDS,
	fill: fill,
	badge: badge,
	answerOf: answerOf,
	renderFailure: renderFailure,
	protoName: protoName,
	findingText: findingText,
	natText: natText,
	ruleText: ruleText,
	decidingElement: decidingElement,
	eventText: eventText,
	originText: originText,
	timeText: timeText,
	probeText: probeText,
	inboundText: inboundText,
	hostLabel: hostLabel,
	hostsOf: hostsOf,
	renderFindings: renderFindings
});
