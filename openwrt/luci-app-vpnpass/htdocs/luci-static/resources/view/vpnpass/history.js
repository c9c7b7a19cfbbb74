'use strict';
'require view';
'require ui';
'require dom';
'require vpnpass.common as vc';

/*
 * VPN passthrough, the history tab: the agent's events, newest first, a
 * page at a time (ubus history with `before`: the seq of the last event
 * shown), filtered by kind, protocol and time range, each change with who
 * made it; "Export" saves every event the filters select as JSON.
 * One call per page; nothing polls.
 */

const PAGE = 50;
/* Export asks for at most this many: the whole of a 512 KiB history. */
const EXPORT_LIMIT = 10000;

function field(id, label, input) {
	return E('div', { 'class': 'cbi-value' }, [
		E('label', { 'class': 'cbi-value-title', 'for': id }, [ label ]),
		E('div', { 'class': 'cbi-value-field' }, [ input ])
	]);
}

/* isoOf turns a datetime-local value (the browser's time zone) into RFC 3339 UTC. */
function isoOf(id) {
	const v = document.getElementById(id).value;
	const d = v ? new Date(v) : null;
	return (d && !isNaN(d)) ? d.toISOString().replace(/\.\d+Z$/, 'Z') : undefined;
}

return view.extend({
	load: function() {
		return vc.answerOf(vc.calls.history('', PAGE));
	},

	render: function(first) {
		this.pages = [ 0 ]; /* the `before` of each page shown so far; 0: the newest */
		this.nodes = { table: E('div', { 'id': 'vpnpass-history' }), pager: E('div', { 'class': 'cbi-section-actions', 'id': 'vpnpass-history-pager' }) };
		this.show(first);
		const select = (id, options) => E('select', { 'id': id, 'class': 'cbi-input-select' },
			options.map((k) => E('option', { 'value': k[0] }, [ k[1] ])));
		const when = (id) => E('input', { 'id': id, 'class': 'cbi-input-text', 'type': 'datetime-local' });
		return E('div', { 'id': 'vpnpass' }, [
			E('h2', {}, [ _('VPN Passthrough') ]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', {}, [ _('History') ]),
				field('vpnpass-history-kind', _('Show'), select('vpnpass-history-kind', vc.HISTORY_KINDS)),
				field('vpnpass-history-protocol', _('Protocol'), select('vpnpass-history-protocol',
					[ [ '', _('All') ] ].concat(vc.PROTOCOLS.map((p) => [ p, vc.protoName(p) ])))),
				field('vpnpass-history-since', _('From'), when('vpnpass-history-since')),
				field('vpnpass-history-until', _('To'), when('vpnpass-history-until')),
				E('div', { 'class': 'cbi-section-actions' }, [
					E('button', { 'class': 'cbi-button cbi-button-action', 'id': 'vpnpass-history-refresh',
						'click': ui.createHandlerFn(this, 'handleFilter') }, [ _('Show') ]), ' ',
					E('button', { 'class': 'cbi-button', 'id': 'vpnpass-history-export',
						'click': ui.createHandlerFn(this, 'handleExport') }, [ _('Export as JSON') ]),
					E('a', { 'id': 'vpnpass-history-download', 'style': 'display:none' })
				]),
				this.nodes.table,
				this.nodes.pager
			])
		]);
	},

	/* filters are the ubus history params the form selects. */
	filters: function() {
		return {
			kind: document.getElementById('vpnpass-history-kind').value,
			protocol: document.getElementById('vpnpass-history-protocol').value || undefined,
			since: isoOf('vpnpass-history-since'),
			until: isoOf('vpnpass-history-until')
		};
	},

	fetch: function(limit, before) {
		const f = this.filters();
		return vc.answerOf(vc.calls.history(f.kind, limit, f.protocol, f.since, f.until, before || undefined));
	},

	handleFilter: function() {
		this.pages = [ 0 ];
		return this.fetch(PAGE).then(L.bind(this.show, this));
	},

	handleOlder: function() {
		this.pages.push(this.last);
		return this.fetch(PAGE, this.last).then(L.bind(this.show, this));
	},

	handleNewer: function() {
		this.pages.pop();
		return this.fetch(PAGE, this.pages[this.pages.length - 1]).then(L.bind(this.show, this));
	},

	handleExport: function() {
		return this.fetch(EXPORT_LIMIT).then((a) => {
			if (a.failure)
				return dom.content(this.nodes.table, vc.renderFailure(a.failure));
			const link = document.getElementById('vpnpass-history-download');
			const blob = new Blob([ JSON.stringify({ filters: this.filters(), events: a.result.events || [] }, null, '\t') ], { type: 'application/json' });
			if (link.href)
				URL.revokeObjectURL(link.href);
			link.href = URL.createObjectURL(blob);
			link.download = 'vpnpass-history-%s.json'.format(new Date().toISOString().replace(/[:.]/g, '-'));
			link.click();
		});
	},

	show: function(a) {
		const events = (!a.failure && Array.isArray(a.result.events)) ? a.result.events : [];
		this.last = events.length ? events[events.length - 1].seq : 0;
		dom.content(this.nodes.table, a.failure ? vc.renderFailure(a.failure) : this.renderEvents(events));
		const page = this.pages.length;
		dom.content(this.nodes.pager, [
			E('button', { 'class': 'cbi-button', 'id': 'vpnpass-history-newer', 'disabled': page > 1 ? null : '',
				'click': ui.createHandlerFn(this, 'handleNewer') }, [ _('« Newer') ]), ' ',
			E('span', { 'id': 'vpnpass-history-page' }, [ _('Page %d').format(page) ]), ' ',
			E('button', { 'class': 'cbi-button', 'id': 'vpnpass-history-older', 'disabled': events.length == PAGE ? null : '',
				'click': ui.createHandlerFn(this, 'handleOlder') }, [ _('Older »') ])
		]);
	},

	renderEvents: function(events) {
		if (!events.length)
			return E('p', {}, [ _('No events.') ]);
		return E('table', { 'class': 'table', 'id': 'vpnpass-history-table' }, [
			E('tr', { 'class': 'tr table-titles' }, [
				E('th', { 'class': 'th' }, [ _('Time') ]),
				E('th', { 'class': 'th' }, [ _('Event') ]),
				E('th', { 'class': 'th' }, [ _('Protocol') ]),
				E('th', { 'class': 'th' }, [ _('What happened') ]),
				E('th', { 'class': 'th' }, [ _('By') ])
			])
		].concat(events.map((ev) => E('tr', { 'class': 'tr', 'data-kind': ev.kind, 'data-seq': ev.seq }, [
			E('td', { 'class': 'td', 'data-title': _('Time') }, [ vc.timeText(ev.time) ]),
			E('td', { 'class': 'td', 'data-title': _('Event') }, [ String(ev.kind) ]),
			/* '-' for nothing: a theme that titles stacked cells (openwrt-2020)
			 * overlaps the title of an empty one with the next */
			E('td', { 'class': 'td', 'data-title': _('Protocol') }, [ ev.protocol ? vc.protoName(ev.protocol) : '-' ]),
			/* agent texts hold long unbroken words (sysctl names) */
			E('td', { 'class': 'td', 'data-title': _('What happened'), 'title': ev.message || '', 'style': 'overflow-wrap:anywhere' }, [ String(vc.eventText(ev)) ]),
			E('td', { 'class': 'td vpnpass-origin', 'data-title': _('By') }, [ vc.originText(ev) || '-' ])
		]))));
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
