"""Nothing lost when a run is killed: `qlm convert` SIGKILLed midway leaves no output folder (only
a clearly named `.NAME.partial-PID` scratch folder, which the next run removes) and a re-run
succeeds; `qlm rollout` SIGKILLed with several sequences in flight, then `--resume`d, ends with
every prompt's N completions exactly once, each line parsing, equal to an uninterrupted run;
`qlm score` SIGKILLed midway, then `--resume`d, ends with the file an uninterrupted run writes."""
import json
import os
import random
import signal
import subprocess
import time

from conftest import qlm_binary, run_qlm, run_qlm_json, shared

# Big enough that conversion takes a few seconds (0.5B-shaped layers, a 65536 x 896 embedding),
# small enough to make quickly: two layers.
BIG = dict(preset="qwen2.5-0.5b", layers=2, vocab=65536, dtype="bf16", seed=11)


def kill_when(proc, ready, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be killed midway"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_convert_killed_midway_leaves_no_output_and_rerun_succeeds(make_model, tmp_path):
    src = make_model("big-qwen", **BIG)
    out = tmp_path / "q4"
    args = [qlm_binary(), "convert", "--hf-path", src, "--out", str(out), "-q", "q4", "--method", "rtn", "--quiet"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = f".{out.name}.partial-{proc.pid}"

    def writing():  # the scratch folder exists and shard data is being written
        p = tmp_path / partial
        return p.exists() and sum(f.stat().st_size for f in p.iterdir()) > (1 << 20)

    kill_when(proc, writing)
    assert not out.exists(), "a killed conversion must not leave an output folder"
    left = [p for p in os.listdir(tmp_path) if p != "q4"]
    assert left == [partial], f"only the clearly named scratch folder may remain, found {left}"

    run_qlm("convert", "--hf-path", src, "--out", out, "-q", "q4", "--method", "rtn", "--quiet")
    assert os.listdir(tmp_path) == ["q4"], "the re-run removes the dead run's scratch folder"
    info = run_qlm_json("inspect", out, "--json")
    assert info["verdict"] == "ok"


def test_rollout_killed_with_batch_in_flight_resumes_exactly_once(tmp_path):
    model = shared("models", "stories260K")
    prompts = tmp_path / "p.jsonl"
    texts = ["Once upon a time", "The cat", "Lily and Ben", "One day", "A little bird", "Tom had a ball"]
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": t, "tag": i}) + "\n" for i, t in enumerate(texts)))
    n = 5
    common = ["rollout", "-m", model, "--prompts", str(prompts), "-n", n, "--max-tokens", 150, "--temp", 0.8,
              "--seed", 3, "--ignore-eos", "--max-batch", 8, "--threads", 1]
    full = tmp_path / "full.jsonl"
    run_qlm(*common, "--out", full)
    want = {(j["id"], j["sample"]): j for j in map(json.loads, open(full))}
    assert len(want) == len(texts) * n

    out = tmp_path / "out.jsonl"
    env = dict(os.environ, QLM_ISA="ref")
    proc = subprocess.Popen([qlm_binary(), *map(str, common), "--out", str(out)], stderr=subprocess.DEVNULL, env=env)
    kill_when(proc, lambda: out.exists() and out.read_bytes().count(b"\n") >= 7)
    kept = out.read_bytes()
    assert 7 <= kept.count(b"\n") < len(want), "the kill must land mid-run for this test to mean anything"
    # A second kill right after resuming, then a clean finish: appends must never duplicate.
    proc = subprocess.Popen([qlm_binary(), *map(str, common), "--out", str(out), "--resume"],
                            stderr=subprocess.DEVNULL, env=env)
    kill_when(proc, lambda: out.read_bytes().count(b"\n") > kept.count(b"\n"))
    run_qlm(*common, "--out", out, "--resume")
    lines = [json.loads(l) for l in open(out)]  # every line parses
    keys = [(j["id"], j["sample"]) for j in lines]
    assert len(keys) == len(set(keys)) == len(want)  # each completion exactly once
    for j in lines:
        w = want[(j["id"], j["sample"])]
        assert j["completion_ids"] == w["completion_ids"] and j["tag"] == w["tag"]


def test_score_killed_midway_resumes_to_the_same_file(tmp_path):
    # The output follows the input line for line; an interrupted run keeps its finished lines in
    # OUT.partial (OUT appears only when complete) and --resume scores the rest. The pairs come
    # shuffled, as a rollout writes them, so a prompt's pairs are scored together but written
    # in input order. Same ISA throughout: the resumed run groups the remaining pairs
    # differently, and batch invariance makes the file byte-identical anyway.
    model = shared("models", "stories260K")
    rng = random.Random(5)
    prompts = [[1] + [rng.randrange(3, 512) for _ in range(rng.randrange(5, 40))] for _ in range(40)]
    pairs = [{"id": f"q{i}", "sample": k, "prompt_ids": p,
              "completion_ids": [rng.randrange(3, 512) for _ in range(rng.randrange(20, 120))]}
             for k in range(4) for i, p in enumerate(prompts)]
    rng.shuffle(pairs)
    inp = tmp_path / "pairs.jsonl"
    inp.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    env = dict(os.environ, QLM_ISA="ref")
    common = ["score", "-m", model, "--input", str(inp), "--quiet", "--threads", "1"]
    full = tmp_path / "full.jsonl"
    subprocess.run([qlm_binary(), *common, "--out", str(full)], env=env, check=True)
    want = full.read_bytes()
    assert [json.loads(l)["id"] for l in want.splitlines()] == [p["id"] for p in pairs]

    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    proc = subprocess.Popen([qlm_binary(), *common, "--out", str(out)], stderr=subprocess.DEVNULL, env=env)
    kill_when(proc, lambda: partial.exists() and partial.read_bytes().count(b"\n") >= 5)
    assert not out.exists(), "OUT appears only when every pair is scored"
    kept = partial.read_bytes()
    assert 5 <= kept.count(b"\n") < len(pairs), "the kill must land mid-run for this test to mean anything"
    assert want.startswith(kept[:kept.rfind(b"\n") + 1]), "the kept lines are the first pairs' scores"
    r = subprocess.run([qlm_binary(), *common, "--out", str(out), "--resume"], env=env, check=True,
                       stderr=subprocess.PIPE, text=True)
    assert "already scored" in r.stderr
    assert out.read_bytes() == want and not partial.exists()

    # Resuming a finished file scores nothing and leaves it as it was; another input is refused.
    subprocess.run([qlm_binary(), *common, "--out", str(out), "--resume"], env=env, check=True)
    assert out.read_bytes() == want
    pairs[2]["completion_ids"][0] ^= 1
    inp.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    r = subprocess.run([qlm_binary(), *common, "--out", str(out), "--resume"], env=env,
                       stderr=subprocess.PIPE, text=True)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [f"qlm: error: --resume: line 3 of {out} is not the score of pair 3 of {inp} (another input?)"]
    assert out.read_bytes() == want
