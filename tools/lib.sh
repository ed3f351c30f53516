# Shared by tools/run, tools/test, tools/bench and tools/profile: dependency installation and
# the build configurations. Source it; do not run it.

CORIO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CORIO_BUILD_ROOT="${CORIO_BUILD_ROOT:-$CORIO_ROOT/build}"
CORIO_JOBS="${CORIO_JOBS:-2}"

# Debian packages the project needs; only the missing ones are installed, and apt-get update
# runs only when something is missing, so a second run touches nothing.
corio_packages=(cmake ninja-build g++ clang libclang-rt-14-dev libtbb-dev libasio-dev libfmt-dev catch2 python3)

# corio_ensure_deps [extra packages...]: the project's packages plus any a script needs itself.
corio_ensure_deps() {
  local missing=()
  for p in "${corio_packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "corio: installing missing packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# corio_configure <config>: configures build/<config> if needed. Configurations:
#   release  g++, -O3                       (tools/run, tools/bench)
#   debug    g++, -O0 -g                    (no tail calls at all: exercises the stack guard)
#   asan     g++, -O1, ASan + UBSan
#   tsan     g++, -O1, TSan
#   clang    clang++ 14, -O2
corio_configure() {
  local cfg="$1" dir="$CORIO_BUILD_ROOT/$1"
  local args=(-G Ninja -S "$CORIO_ROOT" -B "$dir" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
  case "$cfg" in
    release) args+=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++) ;;
    debug) args+=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DCORIO_BUILD_BENCHMARKS=OFF) ;;
    asan) args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DCMAKE_CXX_COMPILER=g++
                 -DCORIO_SANITIZE=address -DCORIO_BUILD_BENCHMARKS=OFF) ;;
    tsan) args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DCMAKE_CXX_COMPILER=g++
                 -DCORIO_SANITIZE=thread -DCORIO_BUILD_BENCHMARKS=OFF) ;;
    clang) args+=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DCMAKE_CXX_COMPILER=clang++
                  -DCORIO_BUILD_BENCHMARKS=OFF) ;;
    *) echo "corio: unknown build configuration '$cfg'" >&2; return 2 ;;
  esac
  if [ ! -f "$dir/build.ninja" ]; then
    cmake "${args[@]}" >/dev/null || return 1
  fi
}

corio_build() {
  corio_configure "$1" || return 1
  cmake --build "$CORIO_BUILD_ROOT/$1" -j "$CORIO_JOBS" "${@:2}"
}
