# lib_sshd.sh - a private OpenSSH server for e2e scripts (sourced after lib.sh): `sshd_start DIR` runs
# /usr/sbin/sshd -D on a free 127.0.0.1 port as the current user with a temp host key and a temp client
# key, and sets SSHD_PORT, SSHD_PID, SSH_KEY (client private key), KNOWN_HOSTS (the right host key) and
# WRONG_KNOWN_HOSTS (another key for the same host); `sshd_stop` kills it. `sshd_available` says if it can run.

sshd_available() { [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null; }

sshd_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

sshd_start() {
	sd=$1
	mkdir -p "$sd" && chmod 700 "$sd" || return 1
	# privilege separation directory sshd insists on when started as root
	[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N "" -C host -f "$sd/host_key" || return 1
	ssh-keygen -q -t ed25519 -N "" -C other -f "$sd/other_host_key" || return 1
	ssh-keygen -q -t ed25519 -N "" -C client -f "$sd/client_key" || return 1
	cp "$sd/client_key.pub" "$sd/authorized_keys"
	SSHD_PORT=$(sshd_free_port)
	cat >"$sd/sshd_config" <<-CONF
	Port $SSHD_PORT
	ListenAddress 127.0.0.1
	HostKey $sd/host_key
	AuthorizedKeysFile $sd/authorized_keys
	PidFile none
	StrictModes no
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	UsePAM no
	Subsystem sftp internal-sftp
	LogLevel ERROR
	CONF
	/usr/sbin/sshd -D -e -f "$sd/sshd_config" 2>"$sd/sshd.log" &
	SSHD_PID=$!
	SSH_KEY="$sd/client_key"
	KNOWN_HOSTS="$sd/known_hosts"
	WRONG_KNOWN_HOSTS="$sd/wrong_known_hosts"
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$sd/host_key.pub")" >"$KNOWN_HOSTS"
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$sd/other_host_key.pub")" >"$WRONG_KNOWN_HOSTS"
	export SSHD_PORT SSHD_PID SSH_KEY KNOWN_HOSTS WRONG_KNOWN_HOSTS
	# ready when the port accepts a connection and answers with its SSH banner
	python3 - "$SSHD_PORT" <<-\PY || { cat "$sd/sshd.log" >&2; return 1; }
	import socket, sys, time
	end = time.time() + 15
	while time.time() < end:
	    try:
	        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
	        if s.recv(4).startswith(b"SSH-"):
	            sys.exit(0)
	    except OSError:
	        time.sleep(0.05)
	sys.exit(1)
	PY
}

sshd_stop() {
	[ -n "${SSHD_PID:-}" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}

# sshd_require DIR: for a test file that needs sshd throughout: without sshd the whole file is skipped
# (and says so); an sshd that does not start counts as a failed test. Call it outside test bodies, so
# that SSHD_PORT and SSHD_PID reach the tests and the EXIT trap.
sshd_require() {
	if ! sshd_available; then
		echo "# skipping: /usr/sbin/sshd not installed (make deps)"
		test_done
		exit
	fi
	if ! sshd_start "$1"; then
		test_count=$((test_count + 1))
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - sshd did not start"
	fi
}
