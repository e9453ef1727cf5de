# shellcheck shell=bash
# Who holds a local port, and whether an HTTP endpoint answers; used by kafka.sh, start and test.

# Prints "name (pid N)" of whatever listens on 127.0.0.1:<port>, or nothing.
port_holder() {
  local line
  if ! command -v ss >/dev/null; then
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then echo "an unknown process"; fi
    return 0
  fi
  line="$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n1 || true)"
  [ -n "$line" ] || return 0
  if [[ "$line" =~ \(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
    echo "${BASH_REMATCH[1]} (pid ${BASH_REMATCH[2]})"
  else
    echo "a process this user cannot see"
  fi
}

# GET http://127.0.0.1:<port><path> answers 2xx. Plain bash, so it works before curl is installed.
http_ok() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$2" >&3
    IFS=" " read -r _ code _ <&3
    [[ "$code" == 2* ]]
  ' _ "$1" "$2" 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
