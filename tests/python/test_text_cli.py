"""Text in and out of the commands: the trained stories260K model's greedy text from BOS equals
llama2.c's; chat prompts are the python3-jinja2 rendering of the model's template, tokenized;
stop strings; bad text input gives one-line errors."""
import json
import os
import shutil

import jinja2
import jinja2.sandbox
import pytest

from conftest import PYTHON, SCRIPTS, run_qlm, run_qlm_json, shared


def test_stories260k_empty_prompt_prints_expected_text():
    folder = shared("models", "stories260K")
    expected = open(os.path.join(folder, "expected_greedy.txt"), encoding="utf-8").read()
    proc = run_qlm("generate", "-m", folder, "-p", "", "--max-tokens", 256, "--ignore-eos")
    assert proc.stdout == expected  # the text, then one newline
    j = run_qlm_json("generate", "-m", folder, "-p", "", "--max-tokens", 256, "--ignore-eos", "--json")
    assert j["text"] == expected.rstrip("\n")
    assert j["prompt_ids"] == [1]


@pytest.fixture(scope="module")
def qwen_chat_model(tmp_path_factory):
    tok = shared("tokenizers", "qwen2.5")
    out = tmp_path_factory.mktemp("qwen-chat") / "m"
    import subprocess
    subprocess.run([PYTHON, os.path.join(SCRIPTS, "make_random_model.py"), "--out", str(out), "--preset",
                    "tiny-qwen2", "--tokenizer", tok, "--dtype", "bf16"], check=True)
    return str(out)


def hf_render(folder, messages, add_generation_prompt=True):
    cfg = json.load(open(os.path.join(folder, "tokenizer_config.json")))

    def raise_exception(msg):
        raise jinja2.exceptions.TemplateError(msg)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(cfg["chat_template"]).render(
        messages=messages, add_generation_prompt=add_generation_prompt, bos_token=None,
        eos_token=cfg.get("eos_token"))


@pytest.mark.parametrize("system", [None, "You are terse."])
def test_chat_prompt_is_the_jinja2_rendering(qwen_chat_model, system):
    messages = ([{"role": "system", "content": system}] if system else []) + \
               [{"role": "user", "content": "Hello, who are you? 你好 🙂"}]
    rendered = hf_render(qwen_chat_model, messages)
    want = run_qlm_json("tokenize", "-m", qwen_chat_model, rendered, "--json")["ids"]
    args = ["generate", "-m", qwen_chat_model, "-p", messages[-1]["content"], "--max-tokens", 2, "--json"]
    if system:
        args += ["--system", system]
    got = run_qlm_json(*args)["prompt_ids"]
    assert got == want
    if system is None:  # Qwen2.5's template supplies its default system prompt
        assert "You are Qwen, created by Alibaba Cloud" in rendered


def test_no_chat_uses_plain_text(qwen_chat_model):
    got = run_qlm_json("generate", "-m", qwen_chat_model, "-p", "plain text", "--no-chat", "--max-tokens", 1,
                       "--json")["prompt_ids"]
    assert got == run_qlm_json("tokenize", "-m", qwen_chat_model, "plain text", "--json")["ids"]


def test_stop_string_is_not_printed():
    folder = shared("models", "stories260K")
    full = run_qlm_json("generate", "-m", folder, "-p", "", "--max-tokens", 100, "--ignore-eos", "--json")["text"]
    cut = full.index("Lily")
    j = run_qlm_json("generate", "-m", folder, "-p", "", "--max-tokens", 100, "--ignore-eos", "--stop", "Lily",
                     "--json")
    assert j["text"] == full[:cut]
    assert j["finish_reason"] == "stop" and j["stop_string"] == "Lily"
    j = run_qlm_json("generate", "-m", folder, "-p", "", "--max-tokens", 100, "--ignore-eos", "--stop", "no such",
                     "--json")
    assert j["text"] == full and j["finish_reason"] == "length" and j["stop_string"] is None


def one_line_error(proc, needle):
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr


def test_bad_text_inputs(qwen_chat_model, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"abc \xff\xfe def")
    one_line_error(run_qlm("generate", "-m", qwen_chat_model, "--prompt-file", bad, check=False), "UTF-8")
    one_line_error(run_qlm("generate", "-m", qwen_chat_model, check=False), "--prompt")
    no_tok = tmp_path / "no-tok"
    shutil.copytree(qwen_chat_model, no_tok)
    for f in ("vocab.json", "merges.txt", "tokenizer_config.json"):
        os.remove(no_tok / f)
    one_line_error(run_qlm("generate", "-m", no_tok, "-p", "hi", check=False), "tokenizer")
    broken = tmp_path / "broken-template"
    shutil.copytree(qwen_chat_model, broken)
    (broken / "chat_template.jinja").write_text("{% include 'x.jinja' %}")
    one_line_error(run_qlm("generate", "-m", broken, "-p", "hi", check=False), "unsupported")


def test_preload_reports_and_checks(qwen_chat_model, tmp_path):
    j = run_qlm_json("preload", "-m", qwen_chat_model, "--max-tokens", 4, "--json")
    assert j["ok"] and j["problems"] == []
    assert j["generated_tokens"] >= 1 and j["decode_tok_per_s"] > 0 and j["load_seconds"] >= 0
    assert 15.5 < j["bits_per_weight"] < 16.5  # BF16 weights
    # KV cost per token from config.json: K and V of every layer, kv_heads x head_dim each.
    c = json.load(open(os.path.join(qwen_chat_model, "config.json")))
    per_token = 2 * c["num_hidden_layers"] * c["num_key_value_heads"] * (
        c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"])
    assert j["kv_cache_dtype"] == "f32" and j["kv_bytes_per_token"] == 4 * per_token
    assert j["context_length"] == c["max_position_embeddings"]
    j16 = run_qlm_json("--kv-cache-dtype", "f16", "preload", "-m", qwen_chat_model, "--max-tokens", 2, "--json")
    assert j16["kv_cache_dtype"] == "f16" and j16["kv_bytes_per_token"] == 2 * per_token
    proc = run_qlm("preload", "-m", qwen_chat_model, "--expect-quantization", "q8_bit", check=False)
    assert proc.returncode == 1 and "q8_bit" in proc.stderr
