"""--config FILE.yaml: the seed workflow's training-config keys drive a generation, flags win
over the file, unknown keys warn by name, wrong types and a quantization mismatch fail."""
import pytest

from conftest import run_qlm, run_qlm_json, shared


def write(tmp_path, text):
    p = tmp_path / "cfg.yaml"
    p.write_text(text)
    return p


def test_seed_workflow_config_drives_generation(tmp_path):
    model = shared("models", "stories260K")
    cfg = write(tmp_path, f"""
hardware:
  use_mlx_for_generation: true
  mlx_model_path: {model}
  mlx_quantization: bf16
max_tokens: 12
learning_rate: 1.0e-5
""")
    proc = run_qlm("--config", cfg, "generate", "-p", "", "--json")
    j = __import__("json").loads(proc.stdout)
    assert len(j["ids"]) == 12
    assert "unknown key 'learning_rate'" in proc.stderr
    # The flag wins over the file.
    assert len(run_qlm_json("generate", "--config", cfg, "-p", "", "--max-tokens", 3, "--json")["ids"]) == 3
    # Same greedy ids as without the config file.
    want = run_qlm_json("generate", "-m", model, "-p", "", "--max-tokens", 12, "--json")["ids"]
    assert j["ids"] == want


def test_config_errors(tmp_path):
    model = shared("models", "stories260K")
    proc = run_qlm("generate", "--config", write(tmp_path, "max_tokens: lots\n"), "-m", model, "-p", "", check=False)
    assert proc.returncode == 1 and "key 'max_tokens' must be an integer" in proc.stderr
    proc = run_qlm("generate", "--config", write(tmp_path, f"hardware:\n  mlx_model_path: {model}\n  mlx_quantization: q4_bit\n"),
                   "-p", "", check=False)
    assert proc.returncode == 1 and "q4_bit" in proc.stderr and "not quantized" in proc.stderr
    proc = run_qlm("generate", "--config", tmp_path / "missing.yaml", "-m", model, "-p", "", check=False)
    assert proc.returncode == 1 and "cannot open" in proc.stderr
    proc = run_qlm("generate", "--config", write(tmp_path, "a: [1, 2\n"), "-m", model, "-p", "", check=False)
    assert proc.returncode == 1 and "invalid YAML" in proc.stderr


def test_recursive_or_deep_config_is_a_clear_error(tmp_path):
    """Found by fuzz_yaml_config (fuzz/regressions/yaml_config/recursive-anchor): a map that contains
    itself through an anchor made the key flattening recurse until the stack overflowed."""
    model = shared("models", "stories260K")
    for text in ["a: &x\n  b: 1\n  <<: *x\n", "a: &x {b: *x}\n", "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40 + "v: 1\n"]:
        proc = run_qlm("generate", "--config", write(tmp_path, text), "-m", model, "-p", "", check=False)
        assert proc.returncode == 1 and "nests deeper than 16 levels" in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_kv_cache_dtype_key(tmp_path):
    # vLLM's key name; the same scores as the global flag, and a bad value names the flag.
    model = shared("models", "stories260K")
    ids = "1,400,30,58,100,7,9,300"
    cfg = write(tmp_path, "kv_cache_dtype: f16\n")
    got = run_qlm_json("score", "--config", cfg, "-m", model, "--ids", ids)["logprobs"]
    assert got == run_qlm_json("--kv-cache-dtype", "f16", "score", "-m", model, "--ids", ids)["logprobs"]
    assert got != run_qlm_json("score", "-m", model, "--ids", ids)["logprobs"]
    proc = run_qlm("score", "--config", write(tmp_path, "kv_cache_dtype: q2\n"), "-m", model, "--ids", ids, check=False)
    assert proc.returncode == 1 and "--kv-cache-dtype: unknown KV cache dtype 'q2'" in proc.stderr


def test_keys_a_command_has_no_flag_for_are_named_once(tmp_path):
    """One training config serves every command: `score` has no sampling flags, so it skips
    temperature and max_tokens, and says so in one note, while the keys it has still apply."""
    model = shared("models", "stories260K")
    ids = "1,400,30,58,100,7,9,300"
    cfg = write(tmp_path, "temperature: 0.7\nmax_tokens: 5\nkv_cache_dtype: f16\n")
    proc = run_qlm("score", "--config", cfg, "-m", model, "--ids", ids)
    notes = [l for l in proc.stderr.splitlines() if "note:" in l]
    assert notes == [f"qlm: note: {cfg}: not used by 'score': temperature, max_tokens"], proc.stderr
    got = __import__("json").loads(proc.stdout)["logprobs"]
    assert got == run_qlm_json("--kv-cache-dtype", "f16", "score", "-m", model, "--ids", ids)["logprobs"]
    # generate has every one of them: no note.
    proc = run_qlm("generate", "--config", cfg, "-m", model, "-p", "", "--json")
    assert "note:" not in proc.stderr and len(__import__("json").loads(proc.stdout)["ids"]) == 5
