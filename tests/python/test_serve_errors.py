"""Bad input and overload: a table of malformed requests, each with its status and the OpenAI
error shape (and the field named where there is one); the server still answers afterwards;
a full queue gives 429 with Retry-After; a disconnected stream frees its batch row."""
import http.client
import json
import threading
import time

import pytest

from serve_helpers import Server, assert_error_shape, chat_model  # noqa: F401 (fixture)

OK = {"prompt": "Hello", "max_tokens": 2}
CHAT = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}

# (name, path, body (dict, or bytes sent raw), status, param named in the error or None)
CASES = [
    ("invalid json", "/v1/completions", b"{\"prompt\": ", 400, None),
    ("body is a list", "/v1/completions", b"[1, 2]", 400, None),
    ("empty body", "/v1/completions", b"", 400, None),
    ("no prompt", "/v1/completions", {"max_tokens": 2}, 400, "prompt"),
    ("prompt is a number", "/v1/completions", {"prompt": 5}, 400, "prompt"),
    ("prompt is an empty list", "/v1/completions", {"prompt": []}, 400, "prompt"),
    ("prompt id past the vocabulary", "/v1/completions", {"prompt": [1, 10 ** 7]}, 400, "prompt"),
    ("prompt id negative", "/v1/completions", {"prompt": [-1]}, 400, "prompt"),
    ("prompt list of mixed types", "/v1/completions", {"prompt": ["a", 5]}, 400, "prompt"),
    ("prompt longer than the context", "/v1/completions", {"prompt": [1] * 600}, 400, "prompt"),
    ("max_tokens is a string", "/v1/completions", {**OK, "max_tokens": "2"}, 400, "max_tokens"),
    ("max_tokens is 0", "/v1/completions", {**OK, "max_tokens": 0}, 400, "max_tokens"),
    ("max_tokens past the context", "/v1/completions", {**OK, "max_tokens": 100000}, 400, "max_tokens"),
    ("max_tokens is a float", "/v1/completions", {**OK, "max_tokens": 2.5}, 400, "max_tokens"),
    ("temperature negative", "/v1/completions", {**OK, "temperature": -1}, 400, "temperature"),
    ("temperature is a string", "/v1/completions", {**OK, "temperature": "hot"}, 400, "temperature"),
    ("top_p is 0", "/v1/completions", {**OK, "top_p": 0}, 400, "top_p"),
    ("top_p above 1", "/v1/completions", {**OK, "top_p": 1.5}, 400, "top_p"),
    ("top_k is a float", "/v1/completions", {**OK, "top_k": 1.5}, 400, "top_k"),
    ("min_p is 1", "/v1/completions", {**OK, "min_p": 1}, 400, "min_p"),
    ("presence_penalty too big", "/v1/completions", {**OK, "presence_penalty": 3}, 400, "presence_penalty"),
    ("repetition_penalty is 0", "/v1/completions", {**OK, "repetition_penalty": 0}, 400, "repetition_penalty"),
    ("n is 0", "/v1/completions", {**OK, "n": 0}, 400, "n"),
    ("n above --max-n", "/v1/completions", {**OK, "n": 100}, 400, "n"),
    ("seed is a string", "/v1/completions", {**OK, "seed": "abc"}, 400, "seed"),
    ("seed past int64", "/v1/completions", {**OK, "seed": 2 ** 64}, 400, "seed"),
    ("stop is a number", "/v1/completions", {**OK, "stop": 5}, 400, "stop"),
    ("stop has an empty string", "/v1/completions", {**OK, "stop": [""]}, 400, "stop"),
    ("logprobs too many", "/v1/completions", {**OK, "logprobs": 100}, 400, "logprobs"),
    ("logprobs is a bool (completions)", "/v1/completions", {**OK, "logprobs": True}, 400, "logprobs"),
    ("stream is a string", "/v1/completions", {**OK, "stream": "yes"}, 400, "stream"),
    ("stream_options not an object", "/v1/completions", {**OK, "stream_options": 1}, 400, "stream_options"),
    ("model is a number", "/v1/completions", {**OK, "model": 7}, 400, "model"),
    ("unknown model", "/v1/completions", {**OK, "model": "gpt-17"}, 404, "model"),
    ("stop_token_ids not ids", "/v1/completions", {**OK, "stop_token_ids": ["x"]}, 400, "stop_token_ids"),
    ("chat: no messages", "/v1/chat/completions", {"max_tokens": 2}, 400, "messages"),
    ("chat: messages not a list", "/v1/chat/completions", {"messages": "hi"}, 400, "messages"),
    ("chat: empty messages", "/v1/chat/completions", {"messages": []}, 400, "messages"),
    ("chat: role not a string", "/v1/chat/completions", {"messages": [{"role": 1, "content": "x"}]}, 400, "messages"),
    ("chat: content a number", "/v1/chat/completions", {"messages": [{"role": "user", "content": 3}]}, 400,
     "messages"),
    ("chat: image part", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, 400, "messages"),
    ("chat: top_logprobs without logprobs", "/v1/chat/completions", {**CHAT, "top_logprobs": 2}, 400, "top_logprobs"),
    ("chat: logprobs is a number", "/v1/chat/completions", {**CHAT, "logprobs": 1}, 400, "logprobs"),
    ("score: no completions", "/v1/score", {"prompt": "a"}, 400, "completions"),
    ("score: completions not a list", "/v1/score", {"prompt": "a", "completions": 3}, 400, "completions"),
    ("weights while disabled", "/v1/weights", b"x", 403, None),
    ("unknown endpoint", "/v1/nothing", {}, 404, None),
    ("body over the limit", "/v1/completions", {"prompt": "x" * 3000}, 413, None),
]


@pytest.fixture(scope="module")
def server(chat_model):  # noqa: F811
    s = Server(chat_model, "--max-n", 4, "--max-body-kb", 2)
    yield s
    assert s.stop() == 0


@pytest.mark.parametrize("name,path,body,status,param", CASES, ids=[c[0] for c in CASES])
def test_malformed(server, name, path, body, status, param):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    got, _, j = server.request("POST", path, raw=raw)
    assert got == status, (name, j)
    assert_error_shape(j)
    if param:
        assert j["error"]["param"] == param, j
    assert j["error"]["type"] == ("invalid_request_error" if status in (400, 413) else j["error"]["type"])


def test_unknown_fields_are_ignored_and_server_still_fine(server):
    status, _, j = server.post("/v1/completions", {**OK, "frobnicate": {"x": [1]}, "user": "u1", "suffix": None})
    assert status == 200 and j["choices"][0]["finish_reason"] in ("stop", "length")
    status, _, _ = server.request("GET", "/v1/completions")  # wrong method
    assert status in (404, 405)
    assert server.request("GET", "/health")[0] == 200


def open_stream(server, body):
    c = server.conn(30)
    c.request("POST", "/v1/completions", body=json.dumps({**body, "stream": True}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200
    r.fp.readline()  # the first event has arrived: the request is in the batch
    return c, r


def wait_for(server, key, value, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.metrics().get(key) == value:
            return
        time.sleep(0.02)
    raise AssertionError(f"{key} never reached {value}: {server.metrics()}")


def test_full_queue_gives_429_and_disconnect_cancels(chat_model):  # noqa: F811
    s = Server(chat_model, "--max-batch", 1, "--max-queue", 1)
    try:
        long = {"prompt": [1, 2, 3], "max_tokens": 500, "ignore_eos": True, "temperature": 0}
        c1, r1 = open_stream(s, long)  # occupies the only batch slot
        waiting = {}
        t = threading.Thread(target=lambda: waiting.update(r=s.post("/v1/completions", {**long, "max_tokens": 3})))
        t.start()
        wait_for(s, "qlm_queue_depth", 1)
        status, headers, j = s.post("/v1/completions", OK)
        assert status == 429 and headers.get("retry-after") == "1"
        assert_error_shape(j)
        assert j["error"]["type"] == "rate_limit_error"
        # The streaming client goes away: its sequence is cancelled, the waiting request runs.
        c1.close()
        t.join(30)
        assert waiting["r"][0] == 200 and waiting["r"][2]["usage"]["completion_tokens"] == 3
        m = s.metrics()
        assert m["qlm_client_disconnects_total"] == 1
        assert m['qlm_requests_total{endpoint="/v1/completions",status="429"}'] == 1
        assert m["qlm_generation_tokens_total"] < 2 + 500 + 3  # the long one did not run to the end
    finally:
        s.stop()
