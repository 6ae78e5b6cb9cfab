#!/bin/bash
# On the GPU machine, from the repository root: ESM-2 3B `bench --device cuda` with carried binaries under several
# settings (per-op profile, the kernels before batch invariance) next to the PyTorch anchor in the same call,
# plus the CUDA unit test and optionally the kernel harness. Binaries and lib.tar.xz as in run_e2e.sh; DIR may also
# hold virnucpro_base (the binary before the change) to time in the same call. Logs go to $OUT.
# usage: run_fused.sh DIR [parts: unit,check,attn,mem,layer,bench,anchor] [configs, comma-separated, each a '+'-joined
#        list of: base new prof noinv perf]. The kernel variants once chosen here (attention, GELU, GEMM plans and
#        tuning) left the program; their switches with them (docs/gpu-notes.md keeps the numbers).
set -u -o pipefail
dir=${1:-.carry/fused}
parts=${2:-unit,check,attn,bench,anchor}
configs=${3:-base,new,prof,noinv,new}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
has() { case ",$parts," in *",$1,"*) return 0 ;; esac; return 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version,power.limit --format=csv | tee "$OUT/gpu.txt"
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,temperature.gpu,utilization.gpu --format=csv -lms 1000 \
  >"$OUT/smi.csv" 2>/dev/null &
smi=$!
L=$(mktemp -d); tar -xJf "$dir/lib.tar.xz" -C "$L"
[ -f "$dir/bin.tar.xz" ] && tar -xJf "$dir/bin.tar.xz" -C "$dir" # binaries travel compressed
export LD_LIBRARY_PATH="$L:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
log() { tee -a "$OUT/summary.log"; }

has unit && timeout 120 "$dir/test_backend_cuda" 2>&1 | tail -6 | log
has check && timeout 120 "$dir/harness" check 2>&1 | grep -E "FAIL|checks:" | tail -15 | log
has attn && timeout 120 "$dir/harness" bench 2 2>&1 | grep '^ATTN' | grep -v long | cut -c1-110 | log
has mem && timeout 120 "$dir/harness" bench 4 2>&1 | grep -iE 'gelu|layernorm|rope' | cut -c1-120 | log
has layer && timeout 200 "$dir/harness" bench 8 2>&1 | grep -E '^(RESULT|LAYER)' | log

anchor() {
  PYTHONUNBUFFERED=1 timeout 150 python3 "$dir/torch_anchor.py" --model esm2_3b --workload "$1" --mode packed \
    --n "$2" 2>>"$OUT/anchor.err" | grep '^{' | tee -a "$OUT/anchor.jsonl" |
    python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print('anchor   %-9s %9.0f tok/s' % (d['workload'], d['tok_per_s']))" | log
}
bench() { # config workload n
  local cfg=$1 V=$dir/virnucpro env=() part
  IFS=+ read -r -a ps <<<"$cfg"
  for part in "${ps[@]}"; do # a config is settings joined by '+', e.g. prof+noinv
    case $part in
      base) V=$dir/virnucpro_base ;;
      prof) env+=(VIRNUCPRO_CUDA_PROFILE=1) ;;
      noinv) env+=(VIRNUCPRO_CUDA_INVARIANT=0) ;;
    esac
  done
  [ -x "$V" ] || return 0
  case $cfg in *perf*) # the card's own account of its clocks mid-run (load takes ~4 s, the run ~4-6 s)
    (sleep 6; nvidia-smi -q -d PERFORMANCE,CLOCK,POWER,TEMPERATURE >"$OUT/perf_${cfg}_$2.txt" 2>&1) & ;;
  esac
  env "${env[@]}" timeout 120 "$V" bench --device cuda --model esm2_3b --workload "$2" --n "$3" \
    2>"$OUT/bench_${cfg}_$2.err" | tee -a "$OUT/bench.jsonl" |
    python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print('%-8s %-9s %9.0f tok/s  %d batches %.2f s' % ('$cfg', d['workload'], d['tok_per_s'], d['batches'], d['seconds']))" | log
  case $cfg in *prof*) grep 'cuda profile' "$OUT/bench_${cfg}_$2.err" | cut -c15- | log ;; esac
}
for w in "chunks500 4000" "reads150 10000"; do
  read -r wl n <<<"$w"
  has anchor && anchor "$wl" "$n"
  if has bench; then
    IFS=, read -r -a cs <<<"$configs"
    for cfg in "${cs[@]}"; do bench "$cfg" "$wl" "$n"; done
  fi
  has anchor && anchor "$wl" "$n"
done
kill $smi 2>/dev/null; wait $smi 2>/dev/null
awk -F', ' 'NR > 1 { n++; c += $2; p += $3; if ($2 + 0 < mn || mn == 0) mn = $2 + 0 } END { if (n) printf "smi: %d samples, mean SM clock %.0f MHz (min %d), mean power %.0f W\n", n, c / n, mn, p / n }' \
  "$OUT/smi.csv" | log
# at most 8 files come back: the logs travel as one archive
(cd "$OUT" && tar -czf /tmp/logs.tar.gz --exclude=summary.log . ; find . -type f ! -name summary.log -delete; mv /tmp/logs.tar.gz .)
echo "fused done"
