# Network benchmark, the same in both guests: iperf3 TCP transmit and
# receive against dom0 (8 s each) and ping latency, over whatever network
# frontend the guest has. iperf3 comes from the tools disk.
. /etc/xentb/lib.sh

net_up || { figure iperf3 absent; exit 0; }
figure net_ping_avg_ms "$(ping -c 20 -i 0.2 10.99.0.1 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')"
bench_turn
tools_mount || { figure iperf3 absent; exit 0; }
mbit() { # <iperf3 args...>: receiver's Mbit/s
	iperf3 -c 10.99.0.1 -t 8 -f m "$@" 2>/dev/null |
		awk '/receiver/ {print $(NF-2)}' | tail -n 1
}
figure iperf3_tcp_tx_mbit_s "$(mbit)"
bench_turn
figure iperf3_tcp_rx_mbit_s "$(mbit -R)"
bench_turn
tools_umount
exit 0
