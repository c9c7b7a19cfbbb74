#!/bin/sh
# vpnpass-remote.sh: call a vpnpass ubus method on a router over HTTP(S)
# (uhttpd-mod-ubus JSON-RPC at /ubus), logging in with an rpcd login that
# the vpnpass-remote ACL limits to the vpnpass methods.
#
#   vpnpass-remote.sh https://192.0.2.1 isp 'the-secret' status
#   vpnpass-remote.sh https://192.0.2.1 isp 'the-secret' set '{"protocol":"ipsec","mode":"allow"}'
#
# Prints the method's JSON result and exits 0. Otherwise it prints why on
# stderr and exits
#   1  vpnpass answered an error ({"error":{"code","message"}}: bad params,
#      daemon not running or not answering, ...), or the router could not be
#      reached or gave another ubus or JSON-RPC error
#   2  usage
#   3  the login failed (rpcd's session.login answered [6]: wrong user or password)
#   4  access denied (JSON-RPC error -32002: the login's ACL does not grant
#      the method, or the session expired)
# CURL_OPTS is passed to curl (e.g. "--cacert router.pem").
set -eu

[ $# -ge 4 ] || { echo "usage: $0 URL USER PASSWORD METHOD [PARAMS-JSON]" >&2; exit 2; }
url=${1%/}/ubus user=$2 pass=$3 method=$4 params=${5:-"{}"}
anon=00000000000000000000000000000000

# json_str escapes a value for a JSON string.
json_str() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }

# rpc SESSION OBJECT METHOD PARAMS: one JSON-RPC call, the reply on stdout.
rpc() {
	# shellcheck disable=SC2086  # CURL_OPTS is a list of options
	curl -fsS ${CURL_OPTS:-} -H 'Content-Type: application/json' --data-binary @- "$url" <<-JSON
	{"jsonrpc":"2.0","id":1,"method":"call","params":["$1","$2","$3",$4]}
	JSON
}

# fail CODE MESSAGE: the reason on stderr, then exit.
fail() { echo "vpnpass-remote: $2" >&2; exit "$1"; }

# rpc_error REPLY WHAT: exits when REPLY is a JSON-RPC error (uhttpd answers
# those with HTTP 200, so curl does not fail on them).
rpc_error() {
	case "$1" in
	*'"result":'*) ;; # a call's outcome: its data may hold anything
	*'"error":'*'"code":-32002'*)
		fail 4 "$2: access denied (JSON-RPC -32002): the login $user may not call it (see its ACL in /usr/share/rpcd/acl.d/), or the session expired" ;;
	*'"error":'*'"code":-32000'*)
		fail 1 "$2: no such ubus object (JSON-RPC -32000): is vpnpass installed, and rpcd restarted since?" ;;
	*'"error":'*) fail 1 "$2: JSON-RPC error: $1" ;;
	esac
}

login=$(rpc "$anon" session login "{\"username\":\"$(json_str "$user")\",\"password\":\"$(json_str "$pass")\"}") ||
	fail 1 "no answer from $url"
rpc_error "$login" "session login"
case "$login" in
*'"result":[6]'*) fail 3 "login as $user failed: wrong user name or password (rpcd answered 6, permission denied)" ;;
esac
sid=$(printf '%s' "$login" | sed -n 's/.*"ubus_rpc_session": *"\([0-9a-f]*\)".*/\1/p')
[ -n "$sid" ] || fail 1 "login as $user failed: $login"

reply=$(rpc "$sid" vpnpass "$method" "$params") || fail 1 "no answer from $url"
rpc_error "$reply" "vpnpass $method"
# A call's outcome is {"result":[0,{...}]}, or {"result":[N]} with a ubus
# status (e.g. 7: rpcd killed the plugin after its timeout). vpnpass's own
# errors are the object {"error":{"code","message"}} in a [0,...] result.
data=$(printf '%s\n' "$reply" | sed -n 's/^[^[]*"result": *\[0, *\(.*\)\] *}$/\1/p')
[ -n "$data" ] || fail 1 "vpnpass $method failed: ubus answered $reply"
case "$data" in
'{"error":'*)
	why=$(printf '%s\n' "$data" | sed -n 's/^{"error":{"code":"\([^"]*\)","message":"\(.*\)"}}$/\1: \2/p')
	fail 1 "vpnpass $method: ${why:-$data}" ;;
esac
printf '%s\n' "$data"
