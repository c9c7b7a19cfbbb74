// test/openwrt: our stand-in for LuCI's ucode dispatcher (luci-base's
// /usr/share/ucode/luci/dispatcher.uc), run by uhttpd as the CGI
// /cgi-bin/luci. Only the dispatcher is ours: it renders the page bootstrap
// (view.ut) and answers the few dispatcher URLs LuCI's JavaScript calls; the
// JavaScript, the ACLs, the session, /ubus and the apply-with-rollback
// controller (luci.controller.admin.uci, loaded from the real LuCI files)
// are the real ones. It follows dispatcher.uc where the page depends on it:
// the menu tree from /usr/share/luci/menu.d, the session from the
// sysauth cookie, the permissions from rpcd's `session access`
// (check_acl_depends: no group -> 403, read only -> node.readonly), the
// POST token check, the language from Accept-Language and uci luci.
// Not ours to fake and absent here: luci.core (gettext catalogs: the test
// writes /tmp/luci/i18n/<lang>.js in the TR format of action_translations).
'use strict';

import { stdin, readfile, glob } from 'fs';
import { cursor } from 'uci';
import * as ubusmod from 'ubus';

const ANON = '00000000000000000000000000000000';
const env = getenv();
const uci = cursor();
const ubus = ubusmod.connect();
const config = uci.get_all('luci') ?? {};

let out_status = '200 OK', out_headers = [], out_body = [], content_type = null;

function urldecode(s) {
	return replace(replace(s ?? '', '+', ' '), /%([0-9A-Fa-f]{2})/g, (m, h) => chr(hex(h)));
}

function parse_pairs(s, sep, into) {
	for (let kv in split(s ?? '', sep)) {
		kv = trim(kv);
		if (kv == '')
			continue;
		let p = split(kv, '=', 2);
		into[urldecode(p[0])] = urldecode(p[1] ?? '');
	}
	return into;
}

const query = parse_pairs(env.QUERY_STRING, '&', {});
const form = { ...query };
if (env.REQUEST_METHOD == 'POST' && +env.CONTENT_LENGTH > 0 &&
    index(env.CONTENT_TYPE ?? '', 'application/x-www-form-urlencoded') == 0)
	parse_pairs(stdin.read(+env.CONTENT_LENGTH), '&', form);
const cookies = parse_pairs(env.HTTP_COOKIE, ';', {});

const http = {
	getenv: (k) => env[k],
	getcookie: (k) => cookies[k],
	formvalue: (k, queryonly) => queryonly ? query[k] : form[k],
	status: (code, msg) => { out_status = `${code} ${msg}`; },
	header: (k, v) => push(out_headers, `${k}: ${v}`),
	prepare_content: (t) => { content_type = t; },
	write: (s) => push(out_body, s),
	write_json: (v) => push(out_body, sprintf('%J', v)),
	redirect: (url) => { out_status = '302 Found'; push(out_headers, `Location: ${url}`); }
};

function flush() {
	print(`Status: ${out_status}\r\n`);
	for (let h in out_headers)
		print(`${h}\r\n`);
	if (length(out_body) || content_type)
		print(`Content-Type: ${content_type ?? 'text/plain'}\r\n`);
	print('\r\n', join('', out_body));
}

function build_url(...path) {
	let url = [ env.SCRIPT_NAME ?? '' ];
	for (let p in path)
		if (match(p, /^[A-Za-z0-9_%.\/,;-]+$/))
			push(url, '/', p);
	if (length(url) == 1)
		push(url, '/');
	return join('', url);
}

function randomid(n) {
	return hexenc(readfile('/dev/urandom', n));
}

/* dispatcher.uc build_pagetree, without the Lua controllers and the cache */
function build_pagetree() {
	let tree = { action: { type: 'firstchild' } };
	for (let file in glob('/usr/share/luci/menu.d/*.json')) {
		let data = json(readfile(file));
		for (let path, spec in data) {
			let node = tree;
			for (let s in match(path, /[^\/]+/g)) {
				if (s[0] == '*') {
					node.wildcard = true;
					break;
				}
				node.children ??= {};
				node.children[s[0]] ??= { satisfied: true };
				node = node.children[s[0]];
			}
			if (node !== tree)
				for (let k in [ 'action', 'auth', 'cors', 'depends', 'order', 'title', 'wildcard', 'firstchild_ineligible' ])
					if (exists(spec, k))
						node[k] = spec[k];
		}
	}
	return tree;
}

/* dispatcher.uc check_acl_depends, verbatim in behaviour */
function check_acl_depends(require_groups, groups) {
	if (length(require_groups)) {
		let writable = false;
		for (let group in require_groups) {
			let read = ('read' in groups?.[group]);
			let write = ('write' in groups?.[group]);
			if (!read && !write)
				return null;
			if (write)
				writable = true;
		}
		return writable;
	}
	return true;
}

function apply_tree_acls(node, acl) {
	for (let name, spec in node?.children)
		apply_tree_acls(spec, acl);
	if (node?.depends?.acl) {
		switch (check_acl_depends(node.depends.acl, acl['access-group'])) {
		case null: node.satisfied = false; break;
		case false: node.readonly = true; break;
		}
	}
}

function session_retrieve(sid) {
	let sdat = ubus.call('session', 'get', { ubus_rpc_session: sid });
	let sacl = ubus.call('session', 'access', { ubus_rpc_session: sid });
	if (type(sdat?.values?.token) == 'string')
		return { sid, data: sdat.values, acls: length(sacl) ? sacl : {} };
	return null;
}

function is_authenticated(auth) {
	for (let method in auth?.methods) {
		let m = match(method, /^([a-z]+):(.+)$/);
		let sid = (m?.[1] == 'cookie') ? cookies[m[2]] : (m?.[1] == 'query') ? query[m[2]] : form[m?.[2]];
		let s = (type(sid) == 'string') ? session_retrieve(sid) : null;
		if (s)
			return s;
	}
	return null;
}

function session_setup(user, pass) {
	let login = ubus.call('session', 'login', { username: user, password: pass });
	if (type(login?.ubus_rpc_session) != 'string')
		return null;
	ubus.call('session', 'set', { ubus_rpc_session: login.ubus_rpc_session, values: { token: randomid(16) } });
	return session_retrieve(login.ubus_rpc_session);
}

function rollback_pending() {
	const now = time();
	const rb = ubus.call('session', 'get', { ubus_rpc_session: ANON, keys: [ 'rollback' ] })?.values?.rollback;
	if (type(rb?.token) != 'string' || type(rb?.session) != 'string' || type(rb?.timeout) != 'int' || rb.timeout <= now)
		return false;
	return { remaining: rb.timeout - now, session: rb.session, token: rb.token };
}

function request_language() {
	let lang = config.main?.lang || 'auto';
	if (lang == 'auto')
		for (let tag in split(env.HTTP_ACCEPT_LANGUAGE ?? '', ',')) {
			tag = split(trim(split(tag, ';')[0]), '-');
			if (tag[0] && config.languages?.[tag[0]]) {
				lang = tag[0];
				break;
			}
		}
	return (lang == 'auto') ? 'en' : lang;
}

/* a template's output, captured (ucode's render) */
function page(file, scope) {
	push(out_body, render(`/tmp/luci/${file}`, scope));
}

function login_form(path) {
	http.status(403, 'Forbidden');
	http.header('X-LuCI-Login-Required', 'yes');
	http.prepare_content('text/html; charset=UTF-8');
	page('login.ut', { action: build_url(...path), http, _: (s) => s });
}

/* alias: dispatcher.uc runs the aliased node's action for the same request */
function dispatch(alias) {
	const tree = build_pagetree();
	const path = alias ?? map(match(env.PATH_INFO ?? '', /[^\/]+/g), (m) => urldecode(m[0]));
	let node = tree, ctx = { path: [], acls: [], request_args: [] };

	for (let i, s in path) {
		let next = node.children?.[s];
		if (!next?.satisfied) {
			if (node.wildcard)
				ctx.request_args = slice(path, i);
			break;
		}
		node = next;
		push(ctx.path, s);
		push(ctx.acls, ...(node.depends?.acl ?? []));
		ctx.auth = node.auth || ctx.auth;
	}

	let session = null;
	if (length(ctx.auth?.methods)) {
		session = is_authenticated(ctx.auth);
		if (!session && ctx.auth.login) {
			if (form.luci_username != null && form.luci_password != null)
				session = session_setup(form.luci_username, form.luci_password);
			if (!session)
				return login_form(path);
			let secure = (env.HTTPS == 'on');
			http.header('Set-Cookie', `${secure ? 'sysauth_https' : 'sysauth_http'}=${session.sid}; path=${build_url()}; SameSite=strict; HttpOnly${secure ? '; secure' : ''}`);
			return http.redirect(build_url(...path));
		}
		if (!session) {
			http.status(403, 'Forbidden');
			return http.header('X-LuCI-Login-Required', 'yes');
		}
	}
	ctx.authsession = session?.sid;
	ctx.authtoken = session?.data?.token;
	ctx.authuser = session?.data?.username;
	ctx.authacl = session?.acls;

	if (length(ctx.acls)) {
		let perm = check_acl_depends(ctx.acls, ctx.authacl?.['access-group']);
		if (perm == null)
			return http.status(403, 'Forbidden');
		node.readonly = !perm;
	}

	let action = node.action;
	if (action?.type == 'alias')
		return dispatch(split(action.path, '/'));
	if (type(action?.post) == 'object' || action?.post === true)
		if (form.token != ctx.authtoken)
			return http.status(403, 'Forbidden');

	const lang = request_language();
	const dispatcher = { build_url, randomid, rollback_pending, is_authenticated, lang };

	if (action?.type == 'view') {
		http.prepare_content('text/html; charset=UTF-8');
		return page('view.ut', {
			http, ctx, lang, node, config, view: action.path, rollback: rollback_pending(),
			build_url, json_text: (v) => replace(sprintf('%J', v), '/', '\\/')
		});
	}
	if (action?.type == 'function' && action.module == 'luci.controller.admin.uci') {
		/* the real controller, with the dispatcher's runtime scope */
		const mod = require(action.module);
		return call(mod[action.function], mod, { http, ctx, config, dispatcher, ubus, time, max }, ...ctx.request_args);
	}
	if (action?.function == 'action_menu') {
		const s = is_authenticated({ methods: [ 'cookie:sysauth_https', 'cookie:sysauth_http' ] });
		apply_tree_acls(tree, s?.acls ?? {});
		http.prepare_content('application/json; charset=UTF-8');
		return http.write_json(tree);
	}
	if (ctx.path[1] == 'translations') {
		/* action_translations: the catalog as window.TR (luci.core reads .lmo) */
		http.prepare_content('application/javascript; charset=UTF-8');
		return http.write(readfile(`/tmp/luci/i18n/${ctx.request_args[0] ?? lang}.js`) ?? 'window.TR={};');
	}
	http.status(404, 'Not Found');
	http.write(`no page ${join('/', path)}`);
}

dispatch();
flush();
