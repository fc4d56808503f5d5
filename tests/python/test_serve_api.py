"""qlm serve against independent paths of qlm as oracles: greedy completions equal `qlm generate`
(also when several requests share the batch), seeded n > 1 samples equal `qlm rollout`'s and
repeat exactly, streamed chunks add up to the whole response, log-probs equal `qlm score`, chat
equals `generate --chat`, and /v1/weights makes the server answer like the model it loaded."""
import concurrent.futures as cf
import json
import os

import numpy as np
import pytest

from conftest import run_qlm, run_qlm_json
from serve_helpers import Server, chat_model, parse_sse  # noqa: F401 (fixture)

PROMPTS = ["Once upon a time", "The little dog ran", "Hello world", "A big red ball"]


@pytest.fixture(scope="module")
def server(chat_model):  # noqa: F811
    s = Server(chat_model, "--max-batch", 8, "--max-n", 4)
    yield s
    assert s.stop() == 0


def generate(model, prompt, max_tokens, *extra):
    return run_qlm_json("generate", "-m", model, "-p", prompt, "--max-tokens", max_tokens, "--json", *extra)


def test_greedy_equals_generate_while_batched(server, chat_model):
    want = {p: generate(chat_model, p, 12, "--no-chat") for p in PROMPTS}
    body = lambda p: {"model": os.path.basename(chat_model), "prompt": p, "max_tokens": 12, "temperature": 0,
                      "return_token_ids": True}
    with cf.ThreadPoolExecutor(len(PROMPTS)) as pool:  # concurrent: they share decode steps
        got = dict(zip(PROMPTS, pool.map(lambda p: server.ok("/v1/completions", body(p)), PROMPTS)))
    for p in PROMPTS:
        c = got[p]["choices"][0]
        assert c["prompt_token_ids"] == want[p]["prompt_ids"], p
        assert c["token_ids"] == want[p]["ids"], p
        assert c["text"] == want[p]["text"], p
        assert c["finish_reason"] == want[p]["finish_reason"], p
        u = got[p]["usage"]
        # Other prompts may be cached by now (they share the first token at least).
        assert 0 <= u.pop("prompt_tokens_details")["cached_tokens"] < len(want[p]["prompt_ids"])
        assert u == {"prompt_tokens": len(want[p]["prompt_ids"]), "completion_tokens": len(want[p]["ids"]),
                     "total_tokens": len(want[p]["prompt_ids"]) + len(want[p]["ids"])}
    assert got[PROMPTS[0]]["object"] == "text_completion" and got[PROMPTS[0]]["id"].startswith("cmpl-")


def test_seeded_samples_equal_rollout_and_repeat(server, chat_model, tmp_path):
    ids = [run_qlm_json("generate", "-m", chat_model, "-p", p, "--no-chat", "--max-tokens", 1, "--json")["prompt_ids"]
           for p in PROMPTS[:2]]
    lines = tmp_path / "p.jsonl"
    lines.write_text("".join(json.dumps({"prompt_ids": x}) + "\n" for x in ids))  # no ids: lines "1", "2"
    out = tmp_path / "out.jsonl"
    run_qlm("rollout", "-m", chat_model, "--prompts", lines, "--out", out, "-n", 3, "--max-tokens", 10, "--temp", 0.9,
            "--top-p", 0.95, "--seed", 7, "--ignore-eos", "--logprobs", "raw")
    want = {(j["id"], j["sample"]): j for j in map(json.loads, open(out))}
    body = {"prompt": ids, "n": 3, "max_tokens": 10, "temperature": 0.9, "top_p": 0.95, "seed": 7,
            "ignore_eos": True, "logprobs": 0, "return_token_ids": True}
    first = server.ok("/v1/completions", body)
    again = server.ok("/v1/completions", body)
    assert len(first["choices"]) == 6
    for c in first["choices"]:
        w = want[(str(c["index"] // 3 + 1), c["index"] % 3)]
        assert c["token_ids"] == w["completion_ids"], c["index"]
        assert c["logprobs"]["token_logprobs"] == pytest.approx(w["logprobs"], abs=1e-6)
    assert [c["token_ids"] for c in first["choices"]] == [c["token_ids"] for c in again["choices"]]
    assert len({tuple(c["token_ids"]) for c in first["choices"]}) > 1  # the samples differ
    assert first["usage"]["prompt_tokens"] == sum(map(len, ids))
    assert first["usage"]["completion_tokens"] == 60


@pytest.mark.parametrize("chat", [False, True])
def test_stream_adds_up_to_the_whole_response(server, chat):
    path = "/v1/chat/completions" if chat else "/v1/completions"
    body = {"max_tokens": 16, "temperature": 0.8, "seed": 3, "n": 2, "stop": ["zzz"],
            **({"messages": [{"role": "user", "content": "Tell me a story"}]} if chat else {"prompt": PROMPTS[1]})}
    whole = server.ok(path, body)
    events = server.stream(path, {**body, "stream_options": {"include_usage": True}})
    assert events[-1] == "[DONE]"
    usage = events[-2]
    # The stream repeats the whole request's prompt: all of it but the last token is cached.
    assert usage["usage"]["prompt_tokens_details"]["cached_tokens"] == whole["usage"]["prompt_tokens"] - 1
    usage["usage"].pop("prompt_tokens_details"), whole["usage"].pop("prompt_tokens_details")
    assert usage["choices"] == [] and usage["usage"] == whole["usage"]
    texts, finish = {}, {}
    for e in events[:-2]:
        assert e["object"] == ("chat.completion.chunk" if chat else "text_completion")
        (c,) = e["choices"]
        piece = c["delta"].get("content", "") if chat else c["text"]
        texts[c["index"]] = texts.get(c["index"], "") + piece
        if c["finish_reason"]:
            assert c["index"] not in finish
            finish[c["index"]] = c["finish_reason"]
    if chat:
        firsts = [e for e in events if isinstance(e, dict) and e["choices"] and "role" in e["choices"][0]["delta"]]
        assert len(firsts) == 2 and all(f["choices"][0]["delta"]["role"] == "assistant" for f in firsts)
    for c in whole["choices"]:
        assert texts[c["index"]] == (c["message"]["content"] if chat else c["text"])
        assert finish[c["index"]] == c["finish_reason"]


def test_stop_string_met_equals_generate(server, chat_model):
    # A stop string the greedy text really contains (a word from its middle): the server, whole
    # and streamed, ends where `qlm generate --stop` ends, with the same text and tokens.
    full = generate(chat_model, PROMPTS[0], 40, "--no-chat", "--ignore-eos")
    stop = full["text"].split()[len(full["text"].split()) // 2]
    want = generate(chat_model, PROMPTS[0], 40, "--no-chat", "--ignore-eos", "--stop", stop)
    assert want["finish_reason"] == "stop" and len(want["ids"]) < 40
    body = {"prompt": PROMPTS[0], "max_tokens": 40, "temperature": 0, "ignore_eos": True, "stop": [stop],
            "return_token_ids": True}
    (c,) = server.ok("/v1/completions", body)["choices"]
    assert (c["text"], c["finish_reason"], c["token_ids"]) == (want["text"], "stop", want["ids"])
    assert c["stop_reason"] == want["stop_string"] == stop  # vLLM's field: what ended the choice
    events = server.stream("/v1/completions", body)
    assert "".join(e["choices"][0]["text"] for e in events[:-1] if e["choices"]) == want["text"]
    last = [e["choices"][0] for e in events[:-1] if e["choices"] and e["choices"][0]["finish_reason"]]
    assert [(x["finish_reason"], x["stop_reason"]) for x in last] == [("stop", stop)]


def test_stop_token_ids_end_the_choice_and_are_its_stop_reason(server, chat_model):
    # A token the greedy completion really makes (its 6th) as a stop_token_ids entry: the choice
    # is the greedy one cut after that token, stop_reason names the id (vLLM); running out of
    # tokens has stop_reason null.
    full = generate(chat_model, PROMPTS[0], 24, "--no-chat", "--ignore-eos")
    stop_id = full["ids"][5]
    cut = full["ids"][:full["ids"].index(stop_id) + 1]
    body = {"prompt": PROMPTS[0], "max_tokens": 24, "temperature": 0, "ignore_eos": True,
            "stop_token_ids": [stop_id], "return_token_ids": True}
    (c,) = server.ok("/v1/completions", body)["choices"]
    assert (c["token_ids"], c["finish_reason"], c["stop_reason"]) == (cut, "stop", stop_id)
    (c,) = server.ok("/v1/completions", {**body, "stop_token_ids": []})["choices"]
    assert (c["token_ids"], c["finish_reason"], c["stop_reason"]) == (full["ids"], "length", None)


def test_logprobs_equal_score(server, chat_model):
    j = server.ok("/v1/completions", {"prompt": PROMPTS[0], "max_tokens": 8, "temperature": 1.0, "seed": 11,
                                      "logprobs": 3, "return_token_ids": True, "ignore_eos": True})
    c = j["choices"][0]
    ids = c["prompt_token_ids"] + c["token_ids"]
    scored = run_qlm_json("score", "-m", chat_model, "--ids", ",".join(map(str, ids)))["logprobs"]
    want = np.array(scored[len(c["prompt_token_ids"]) - 1:])
    got = np.array(c["logprobs"]["token_logprobs"])
    assert np.abs(got - want).max() <= 1e-5
    assert len(c["logprobs"]["tokens"]) == 8 and all(len(t) <= 3 for t in c["logprobs"]["top_logprobs"])
    for lp, top in zip(got, c["logprobs"]["top_logprobs"]):  # the best alternative is at least as likely
        assert max(top.values()) >= lp - 1e-6
    # The /v1/score extension gives the same numbers.
    s = server.ok("/v1/score", {"prompt": c["prompt_token_ids"], "completions": [c["token_ids"]]})
    assert np.abs(np.array(s["data"][0]["logprobs"]) - want).max() <= 1e-5
    assert s["data"][0]["sum_logprob"] == pytest.approx(float(want.sum()), abs=1e-4)


def test_chat_equals_generate_chat(server, chat_model):
    want = generate(chat_model, "Write a haiku", 10, "--chat")
    j = server.ok("/v1/chat/completions", {"messages": [{"role": "user", "content": "Write a haiku"}],
                                           "max_tokens": 10, "temperature": 0, "return_token_ids": True,
                                           "logprobs": True, "top_logprobs": 2})
    c = j["choices"][0]
    assert j["object"] == "chat.completion"
    assert c["prompt_token_ids"] == want["prompt_ids"] and c["token_ids"] == want["ids"]
    assert c["message"] == {"role": "assistant", "content": want["text"]}
    assert len(c["logprobs"]["content"]) == len(want["ids"])
    assert all(len(t["top_logprobs"]) == 2 for t in c["logprobs"]["content"])


def test_next_chat_turn_copies_the_previous_one_and_answers_as_a_fresh_run(server, chat_model):
    """Prefix cache: the second turn resends the first turn's prompt and reply. Those positions
    are copied (usage.prompt_tokens_details.cached_tokens), and the answer must equal a fresh
    `qlm generate` of the same prompt ids (another process, no cache)."""
    first = [{"role": "user", "content": "Tell me about the sea, the waves and the shore"}]
    body = {"max_tokens": 12, "temperature": 0, "return_token_ids": True}
    one = server.ok("/v1/chat/completions", {**body, "messages": first})
    reply = one["choices"][0]["message"]["content"]
    two = server.ok("/v1/chat/completions", {**body, "messages": first + [
        {"role": "assistant", "content": reply}, {"role": "user", "content": "And the rivers?"}]})
    c = two["choices"][0]
    turn_one_prompt = one["choices"][0]["prompt_token_ids"]
    assert c["prompt_token_ids"][:len(turn_one_prompt)] == turn_one_prompt
    cached = two["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert len(turn_one_prompt) <= cached < len(c["prompt_token_ids"])
    fresh = run_qlm_json("generate", "-m", chat_model, "--ids", ",".join(map(str, c["prompt_token_ids"])),
                         "--max-tokens", 12, "--json")
    assert c["token_ids"] == fresh["ids"]
    metrics = server.metrics()
    assert metrics["qlm_prefix_cache_hit_tokens_total"] >= cached
    assert metrics["qlm_prefix_cache_bytes"] > 0


def test_models_and_health(server, chat_model):
    status, _, j = server.request("GET", "/v1/models")
    assert status == 200 and j["data"][0]["id"] == os.path.basename(chat_model)
    assert server.request("GET", "/health")[:3:2] == (200, {"status": "ok"})


def test_api_key(chat_model):  # noqa: F811
    s = Server(chat_model, "--api-key", "sekret")
    try:
        status, _, j = s.post("/v1/completions", {"prompt": "hi", "max_tokens": 1})
        assert status == 401 and j["error"]["type"] == "authentication_error"
        status, _, _ = s.post("/v1/completions", {"prompt": "hi", "max_tokens": 1},
                              headers={"Authorization": "Bearer wrong"})
        assert status == 401
        assert s.post("/v1/completions", {"prompt": "hi", "max_tokens": 1},
                      headers={"Authorization": "Bearer sekret"})[0] == 200
        assert s.request("GET", "/health")[0] == 200  # load balancers probe without the key
    finally:
        s.stop()


def test_weight_update_switches_to_the_new_model(make_model, tmp_path):
    a = make_model("serve-w-a", preset="tiny-qwen2", seed=1)
    b = make_model("serve-w-b", preset="tiny-qwen2", seed=2)
    ids = "1,2,3,4,5"
    want_a = run_qlm_json("generate", "-m", a, "--ids", ids, "--max-tokens", 8, "--json", "--ignore-eos")["ids"]
    want_b = run_qlm_json("generate", "-m", b, "--ids", ids, "--max-tokens", 8, "--json", "--ignore-eos")["ids"]
    assert want_a != want_b
    body = {"prompt": [1, 2, 3, 4, 5], "max_tokens": 8, "temperature": 0, "ignore_eos": True, "return_token_ids": True}
    long_a = run_qlm_json("generate", "-m", a, "--ids", ids, "--max-tokens", 3000, "--json", "--ignore-eos",
                          "--threads", 1)["ids"]
    s = Server(a, "--allow-weight-updates")
    try:
        assert s.ok("/v1/completions", body)["choices"][0]["token_ids"] == want_a
        # A stream in flight when the update arrives finishes on the old weights.
        c = s.conn(60)
        c.request("POST", "/v1/completions", body=json.dumps({**body, "max_tokens": 3000, "stream": True}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        first = r.readline()
        assert first.startswith(b"data: ")
        raw = open(os.path.join(b, "model.safetensors"), "rb").read()
        assert s.metrics()["qlm_generation_tokens_total"] < 2 + 8 + 3000  # still generating
        status, _, j = s.request("POST", "/v1/weights", raw=raw, headers={"Content-Type": "application/octet-stream"})
        assert status == 200 and j["updated"] > 0, j
        events = parse_sse((first + r.read()).decode())
        assert [t for e in events[:-1] for ch in e["choices"] for t in ch.get("token_ids", [])] == long_a
        after = s.ok("/v1/completions", body)
        assert after["choices"][0]["token_ids"] == want_b
        # The prompt was cached under the old weights; the update dropped it.
        assert after["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
        status, _, j = s.request("POST", "/v1/weights", raw=b"not safetensors",
                                 headers={"Content-Type": "application/octet-stream"})
        assert status == 400 and "safetensors" in j["error"]["message"]
        assert s.ok("/v1/completions", body)["choices"][0]["token_ids"] == want_b  # a bad body changes nothing
    finally:
        s.stop()


def test_port_in_use_is_an_error(server, chat_model):
    proc = run_qlm("serve", "-m", chat_model, "--port", server.port, check=False, timeout=60)
    assert proc.returncode == 1 and "cannot listen on 127.0.0.1:%d" % server.port in proc.stderr
