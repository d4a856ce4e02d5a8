# Shared by the bench scripts (sourced): a free loopback port, an admin key, waiting for a
# server to be ready, and the median of numbers.

# A TCP port free on 127.0.0.1 now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A fresh admin key for a server started with FIELDLEDGER_ADMIN_KEY.
bench_key() { echo "flk_bench_key_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# Waits up to 60 s for the server at URL (admin key KEY) to answer /readyz; fails otherwise.
wait_ready() {
  local url=$1 key=$2
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null -H "Authorization: Bearer $key" "$url/readyz" && return 0
    sleep 0.1
  done
  return 1
}

# The median of the numbers on stdin (separated by spaces or newlines).
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Makes the Release build in BUILD current (configuring it first if needed), with the given
# targets. A BUILD that holds a fieldledgerd but no build.ninja (a prebuilt copy, or a wrapper
# script that adds options) is used as it is.
ensure_build() {
  local build=$1
  shift
  if [ ! -f "$build/build.ninja" ] && [ -x "$build/fieldledgerd" ]; then return 0; fi
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build" -j "$(nproc)" --target "$@" >/dev/null
}
