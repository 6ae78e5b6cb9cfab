#!/usr/bin/env bash
# One verdict on a model file: `models check`, `validate`, `embed` and `predict` read the same model description, so
# each config.json below (copies of the tiny fixtures with one key edited) gets the same exit status from all of
# them, the same message naming the key, the value and what the tensors say, printed once.
set -u
VNP=${VIRNUCPRO:?VIRNUCPRO must name the binary}
DATA=${VNP_TEST_DATA:-tests/data}
M=$DATA/models
IN=$DATA/inputs/broad_test_with_orfs.fa
T=$(mktemp -d /tmp/vnp_test_verdict.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

# A copy of a fixture model folder (weights linked, config.json copied) with one key set by python.
edit_copy() { # fixture key json-value -> folder
    local src=$1 key=$2 val=$3 dst=$T/m$RANDOM$RANDOM
    mkdir "$dst"
    for f in "$M/$src"/*; do
        case $(basename "$f") in
        config.json) ;;
        pytorch_model.bin | *.pt) ;; # the folder resolves to model.safetensors
        *) ln -s "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$dst/" ;;
        esac
    done
    python3 - "$M/$src/config.json" "$dst/config.json" "$key" "$val" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
if sys.argv[4] == 'DELETE':
    c.pop(sys.argv[3], None)
else:
    c[sys.argv[3]] = json.loads(sys.argv[4])
json.dump(c, open(sys.argv[2], 'w'), indent=2)
PY
    echo "$dst"
}

# Runs the four commands on one model folder in the role of `kind` (esm or dnabert); checks that they agree.
#   verdict KIND FIXTURE KEY VALUE WANT_RC PATTERN
verdict() {
    local kind=$1 fixture=$2 key=$3 val=$4 want=$5 pattern=$6
    local d what="$fixture $key=$val"
    d=$(edit_copy "$fixture" "$key" "$val")
    local esm=$M/esm2-tiny dna=$M/dnabert-s-tiny
    if [ "$kind" = esm ]; then esm=$d; else dna=$d; fi
    "$VNP" models check "$d" >"$T/check.out" 2>"$T/check.err"
    local rc_check=$?
    "$VNP" validate --$kind "$d" >"$T/validate.out" 2>"$T/validate.err"
    local rc_validate=$?
    "$VNP" embed "$d" "$IN" -o "$T/embed.f32" 2>"$T/embed.err"
    local rc_embed=$?
    rm -rf "$T/out"
    "$VNP" predict "$IN" -l 300 -o "$T/out" --esm "$esm" --dnabert "$dna" --classifier "$M/mlp/mlp_tiny.pth" \
        --threads 1 2>"$T/predict.err" >/dev/null
    local rc_predict=$?
    if [ "$rc_check" = "$want" ] && [ "$rc_validate" = "$want" ] && [ "$rc_predict" = "$want" ] &&
        [ "$rc_embed" = "$want" ]; then
        ok
    else
        bad "$what: exits check $rc_check, validate $rc_validate, embed $rc_embed, predict $rc_predict; want $want" \
            "($(cat "$T/predict.err" | head -c 300))"
        return
    fi
    [ -n "$pattern" ] || return
    # the same message from each, once
    local msg
    msg=$(grep -E -- "$pattern" "$T/check.err" | head -1)
    if [ -z "$msg" ]; then
        bad "$what: models check says nothing matching /$pattern/: $(head -c 300 "$T/check.err")"
        return
    fi
    for c in check validate predict embed; do
        local n
        n=$(grep -cF -- "$msg" "$T/$c.err")
        [ "$n" = 1 ] && ok || bad "$what: $c prints the message $n times, expected once: $(head -c 400 "$T/$c.err")"
    done
}

# ---- the reproducers of issue 13: config values out of range, of the wrong type, contradicting the tensors ----
for fx in esm:esm2-tiny:128:3 dnabert:dnabert-s-tiny:192:2; do
    IFS=: read -r kind fixture dim layers <<<"$fx"
    verdict "$kind" "$fixture" hidden_size 1000000000 2 "hidden_size = 1000000000 is outside \[1, 65536\]; the tensors say $dim"
    verdict "$kind" "$fixture" num_hidden_layers -1 2 "num_hidden_layers = -1 is outside .*; the tensors say $layers"
    verdict "$kind" "$fixture" num_hidden_layers $((layers + 1)) 2 "num_hidden_layers = $((layers + 1)), but the tensors say $layers"
    verdict "$kind" "$fixture" num_hidden_layers 1000000 2 "num_hidden_layers = 1000000 is outside"
    verdict "$kind" "$fixture" intermediate_size 4611686018427387904 2 "intermediate_size = 4611686018427387904 is outside"
    verdict "$kind" "$fixture" hidden_size "\"$dim\"" 2 "hidden_size is \"$dim\", expected an integer; the tensors say $dim"
    verdict "$kind" "$fixture" hidden_size "$dim.5" 2 "hidden_size is $dim.5, expected an integer"
    verdict "$kind" "$fixture" num_attention_heads 0 2 "num_attention_heads = 0 is outside"
    verdict "$kind" "$fixture" vocab_size 7 2 "vocab_size = 7, but the tensors say"
    verdict "$kind" "$fixture" layer_norm_eps '"small"' 2 "layer_norm_eps is \"small\", expected a number"
    verdict "$kind" "$fixture" model_type '"t5"' 2 'model_type is "t5", but the tensors are'
done
# heads that do not divide the width (issue 13: "3 for width 128" was reported as "no num_attention_heads")
verdict esm esm2-tiny num_attention_heads 3 2 "num_attention_heads = 3 does not divide the hidden size 128"
verdict dnabert dnabert-s-tiny num_attention_heads 5 2 "num_attention_heads = 5 does not divide the hidden size 192"
# heads that divide the width but contradict the rotary tensors (inv_freq holds head_dim / 2 values)
verdict esm esm2-tiny num_attention_heads 4 2 "num_attention_heads = 4 gives head dimension 32, but the tensors say 64"
verdict esm esm2-tiny mask_token_id 40 2 "mask_token_id = 40 is outside the vocabulary; the tensors say 33"
verdict dnabert dnabert-s-tiny type_vocab_size 3 2 "type_vocab_size = 3, but the tensors say 2"
verdict esm esm2-tiny position_embedding_type '"absolute"' 2 'position_embedding_type is "absolute"; only rotary'
verdict esm esm2-tiny token_dropout '"yes"' 2 'token_dropout is "yes", expected true or false'

# ---- usable files: every command accepts them ----
verdict esm esm2-tiny num_hidden_layers 3 0 ""
verdict dnabert dnabert-s-tiny num_attention_heads 12 0 ""
verdict dnabert dnabert-s-tiny hidden_size null 0 "" # null is absent
# a guess where a released file could need one is a warning, said by each command
verdict dnabert dnabert-s-tiny num_attention_heads DELETE 0 ""
for c in check validate predict; do
    grep -q "no num_attention_heads in a config.json: taking 3 heads of dimension 64" "$T/$c.err" && ok ||
        bad "$c: no warning for guessed DNABERT-S heads: $(head -c 300 "$T/$c.err")"
done

# ---- a model-load error prints once (it printed twice or three times before) ----
d=$(edit_copy esm2-tiny hidden_size 64)
"$VNP" embed "$d" "$IN" -o "$T/e.f32" 2>"$T/err"
[ "$(grep -c 'error' "$T/err")" = 1 ] && ok || bad "embed prints a model error more than once: $(cat "$T/err")"
"$VNP" predict "$IN" -l 300 -o "$T/out2" --esm "$d" --dnabert "$M/dnabert-s-tiny" --classifier "$M/mlp/mlp_tiny.pth" \
    2>"$T/err" >/dev/null
[ "$(grep -c 'error' "$T/err")" = 1 ] && ok || bad "predict prints a model error more than once: $(cat "$T/err")"
# a model in the wrong role: one message naming what it holds
"$VNP" predict "$IN" -l 300 -o "$T/out3" --esm "$M/dnabert-s-tiny" --dnabert "$M/dnabert-s-tiny" \
    --classifier "$M/mlp/mlp_tiny.pth" 2>"$T/err" >/dev/null
rc=$?
[ $rc = 2 ] && [ "$(grep -c 'error' "$T/err")" = 1 ] && grep -q "holds a DNABERT-S (a DNA encoder), not a protein encoder" "$T/err" &&
    ok || bad "predict with DNABERT-S as --esm: exit $rc: $(cat "$T/err")"

echo "model verdict: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
