// test/openwrt: a stand-in for procd's ubus object "service", method "event",
// which rpcd's `uci apply` calls with {type: "config.change", data:
// {package}} for every applied package. procd would run the package's
// reload trigger (openwrt/files/etc/init.d/vpnpass: procd_add_reload_trigger
// vpnpass, reload_signal HUP); this sends that SIGHUP to the agent whose pid
// the test wrote to /tmp/vpnpass-agent.pid, and logs each event.
'use strict';
import * as ubus from 'ubus';
import * as uloop from 'uloop';
import { readfile } from 'fs';

uloop.init();
const conn = ubus.connect();
conn.publish('service', {
	event: {
		args: { type: '', data: {} },
		call: function(req) {
			const pkg = req.args?.data?.package;
			warn(sprintf('service event %s %s\n', req.args?.type, pkg));
			if (req.args?.type == 'config.change' && pkg == 'vpnpass') {
				const pid = +trim(readfile('/tmp/vpnpass-agent.pid') ?? '0');
				if (pid > 0)
					system([ 'kill', '-HUP', `${pid}` ]);
			}
			return {};
		}
	}
});
uloop.run();
