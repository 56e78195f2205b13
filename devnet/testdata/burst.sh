#!/usr/bin/env bash
# burst.sh: issue 12's burst measurement on 4 validator processes (each an executor with
# --fake-models m --fake-delay), a burst of TASKS submissions broadcast at once (genquorum bench
# --rpc), optionally validator 3 killed (SIGKILL) KILL seconds in the middle and restarted. It
# prints bench's line (accepted, refused with codes, settled, tasks/s), then every node's
# slashes and jailings and whether all validators agree on the app hash.
#
#   GQ=./genquorum TASKS=200 devnet/testdata/burst.sh            # burst only
#   GQ=./genquorum TASKS=200 KILL=60 devnet/testdata/burst.sh    # validator 3 down for 60 s
#
# Known problems: none open here. Fixed (6 Dec 2026): with KILL, validator 3 was slashed per
# commitment it could not reveal while down (12 x 5 %, compounded) and could not re-register; now
# its missed reveals count towards jailing and are waived by it (ledger/doc.go "Downtime"), so it
# is jailed once (5 % when it owed reveals, else 1 %) and unjails itself on restart.
#
# Env: GQ (binary), TASKS (200), KILL (0: no kill), DELAY (--fake-delay, 100ms), CAPACITY
# (per node, 160), WORKERS (4), BASE (first port, 36650).
set -euo pipefail
GQ=${GQ:-genquorum}; TASKS=${TASKS:-200}; KILL=${KILL:-0}; DELAY=${DELAY:-100ms}
CAPACITY=${CAPACITY:-160}; WORKERS=${WORKERS:-4}; BASE=${BASE:-36650}
dir=$(mktemp -d)
"$GQ" testnet --validators 4 --out "$dir" --base-port "$BASE" >/dev/null
pids=()
start() { "$GQ" node --home "$dir/node$1" --fake-models m --fake-delay "$DELAY" --capacity "$CAPACITY" --workers "$WORKERS" --log-level warn >>"$dir/node$1.log" 2>&1 & pids[$1]=$!; }
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
for i in 0 1 2 3; do start $i; done
rpc() { echo "http://127.0.0.1:$((BASE + 2 * $1 + 1))"; }
query() { # query I PATH: the ledger's JSON answer from validator I
	curl -s -m 5 "$(rpc "$1")/abci_query?path=%22$2%22" | python3 -c 'import sys,json,base64; r=json.load(sys.stdin)["result"]["response"]; print(base64.b64decode(r.get("value") or "").decode() or "null")'
}
for _ in $(seq 300); do
	n=$(query 0 nodes 2>/dev/null | python3 -c 'import sys,json; print(len(json.load(sys.stdin) or []))' 2>/dev/null || echo 0)
	[ "$n" = 4 ] && break
	sleep 1
done
[ "$n" = 4 ] || { echo "burst.sh: nodes did not register; logs in $dir" >&2; exit 1; }
if [ "$KILL" != 0 ]; then
	( sleep 3; kill -9 "${pids[3]}"; echo "validator 3 killed" >&2; sleep "$KILL" ) &
	killer=$!
fi
rpcs="tcp://127.0.0.1:$((BASE + 1)),tcp://127.0.0.1:$((BASE + 3)),tcp://127.0.0.1:$((BASE + 5))"
"$GQ" bench --rpc "$rpcs" --key "$dir/client.key" --model m --tasks "$TASKS"
if [ "$KILL" != 0 ]; then
	wait "$killer" || true
	start 3
	echo "validator 3 restarted" >&2
	for _ in $(seq 120); do # validator 3 catches up
		h0=$(curl -s -m 5 "$(rpc 0)/status" | python3 -c 'import sys,json; print(json.load(sys.stdin)["result"]["sync_info"]["latest_block_height"])' 2>/dev/null || echo 0)
		h3=$(curl -s -m 5 "$(rpc 3)/status" | python3 -c 'import sys,json; print(json.load(sys.stdin)["result"]["sync_info"]["latest_block_height"])' 2>/dev/null || echo 0)
		[ "$h3" -ge "$((h0 - 1))" ] && [ "$h3" -gt 0 ] && break
		sleep 1
	done
	for _ in $(seq 60); do # it unjails itself
		j=$(query 0 nodes 2>/dev/null | python3 -c 'import sys,json; print(sum(1 for n in json.load(sys.stdin) if n.get("jailed")))' 2>/dev/null || echo 1)
		[ "$j" = 0 ] && break
		sleep 1
	done
fi
query 0 nodes | python3 -c '
import sys, json
honest = 0
for n in json.load(sys.stdin):
    r = n["record"]
    print("node %s stake %d slashed %d jailed %d (now %s) no-commit %d no-reveal %d (waived %d) outliers %d" % (n["key"][:8], n["stake"],
        r.get("Slashed", 0), r.get("Jailed", 0), "yes" if n.get("jailed") else "no", r.get("NoCommit", 0), r.get("NoReveal", 0),
        r.get("Waived", 0), r.get("Outliers", 0)))
    # One jailing: jailed once, no outlier, every missed reveal waived, at most 5 % taken.
    one_jailing = r.get("Jailed", 0) == 1 and r.get("Outliers", 0) == 0 and r.get("NoReveal", 0) == r.get("Waived", 0) and r.get("Slashed", 0) * 20 <= n["stake"] + r.get("Slashed", 0)
    if r.get("Slashed", 0) and not one_jailing:
        honest += 1
print("nodes slashed other than by one jailing:", honest)'
h=$(for i in 0 1 2 3; do curl -s -m 5 "$(rpc $i)/status" | python3 -c 'import sys,json; print(json.load(sys.stdin)["result"]["sync_info"]["latest_block_height"])'; done | sort -n | head -1)
hashes=$(for i in 0 1 2 3; do curl -s -m 5 "$(rpc $i)/block?height=$h" | python3 -c 'import sys,json; print(json.load(sys.stdin)["result"]["block"]["header"]["app_hash"])'; done | sort -u | wc -l)
echo "app hashes at height $h: $([ "$hashes" = 1 ] && echo equal || echo DIFFER)"
