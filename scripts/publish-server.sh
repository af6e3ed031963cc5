#!/usr/bin/env bash
# Publishes apps/lasthope-server as it ships: self-contained, trimmed, for linux-x64 (the project's defaults), into DIR
# (default artifacts/publish/lasthope-server/dist), then prints its size on disk (du) and as a tar.gz.
#   scripts/publish-server.sh [DIR] [more dotnet publish arguments, such as -r linux-arm64]
# DIR is emptied first, so that the size is the publish's alone; a non-empty DIR that is not a publish is refused.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/artifacts/publish/lasthope-server/dist}"
[ $# -gt 0 ] && shift
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ]; then
  if [ ! -f "$out/lasthope-server" ]; then
    echo "error: $out is not empty and holds no lasthope-server; give an empty or new directory." >&2
    exit 2
  fi
  rm -rf "$out"
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet publish "$root/apps/lasthope-server/lasthope-server.csproj" -c Release -o "$out" --disable-build-servers "$@" >&2
bytes=$(du -s -B1 "$out" | cut -f1)
gz=$(tar -C "$out" -czf - . | wc -c)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "$out: $bytes bytes on disk ($(mib "$bytes")); $gz bytes as tar.gz ($(mib "$gz"))"
