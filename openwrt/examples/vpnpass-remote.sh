#!/bin/sh
# vpnpass-remote.sh: call a vpnpass ubus method on a router over HTTP(S)
# (uhttpd-mod-ubus JSON-RPC at /ubus), logging in with an rpcd login that
# the vpnpass-remote ACL limits to the vpnpass methods.
#
#   vpnpass-remote.sh https://192.0.2.1 isp 'the-secret' status
#   vpnpass-remote.sh https://192.0.2.1 isp 'the-secret' set '{"protocol":"ipsec","mode":"allow"}'
#
# Prints the method's JSON result; exits 1 when the login or the call fails.
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

login=$(rpc "$anon" session login "{\"username\":\"$(json_str "$user")\",\"password\":\"$(json_str "$pass")\"}")
sid=$(printf '%s' "$login" | sed -n 's/.*"ubus_rpc_session": *"\([0-9a-f]*\)".*/\1/p')
if [ -z "$sid" ]; then
	echo "login as $user failed: $login" >&2
	exit 1
fi

reply=$(rpc "$sid" vpnpass "$method" "$params")
# A reply is {"result":[0,{...}]} on success, {"result":[N]} on a ubus error
# (6: the ACL does not grant the method).
case "$reply" in
*'"result":[0,'*) printf '%s\n' "$reply" | sed 's/.*"result":\[0,\(.*\)\]}$/\1/' ;;
*) echo "vpnpass $method failed: $reply" >&2; exit 1 ;;
esac
