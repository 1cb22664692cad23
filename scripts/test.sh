#!/usr/bin/env bash
# Runs every test/**/*.test.ts with Node's built-in runner (through tsx), after a strict type check.
# The reliability suite (test/reliability) has its own command: npm run test:reliability.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit
mapfile -t files < <(find test -name '*.test.ts' -not -path 'test/reliability/*' | sort)
exec npx tsx --test --test-concurrency=1 "$@" "${files[@]}"
