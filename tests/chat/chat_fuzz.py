#!/usr/bin/python3
"""Differential fuzzing of qlm's template interpreter against python3-jinja2 (HF settings).

Generates random templates that mix text, whitespace, tag modifiers (- and +), comments, raw
blocks, loops, sets and expressions; renders them with both and reports every difference.
    /usr/bin/python3 tests/chat/chat_fuzz.py build/chat/tests/chat/qlm_chat_render [all]
    /usr/bin/python3 tests/chat/chat_fuzz.py TOOL templates [count] [seed]       # syntax, whitespace, scoping
    /usr/bin/python3 tests/chat/chat_fuzz.py TOOL conversations [count] [seed]   # the real templates
    /usr/bin/python3 tests/chat/chat_fuzz.py TOOL floats [count] [seed]          # float repr and tojson
"""
import json
import os
import random
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore", category=SyntaxWarning)  # jinja compiles `1[0]` as Python does
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import chat_goldens  # noqa: E402  (the same HF-configured environment as the goldens)

WS = ["", " ", "  ", "\n", "\n\n", "\t", " \n  ", "\n  ", "  \n", "\r\n", " \t \n\t", "\u00a0", "\u3000\n ", "\x1f", "\u2003"]
TEXT = ["a", "b", "xy", "{", "}", "%", "#", "-", "é", "日本"]


def ws(r):
    return r.choice(WS)


def mod(r):
    return r.choice(["", "", "-", "+"])


def vmod(r):
    return r.choice(["", "", "-"])


def expr(r, depth=0):
    choices = ["'s'", "1", "2.5", "none", "true", "xs", "d", "n", "'a b'", "xs[0]", "d.k", "xs|length",
               "'x' ~ n", "n + 1", "n * 2 - 3", "n // 2", "n % 3", "-n", "[1, 'a']", "{'k': n}",
               "xs[::-1]", "'abc'[1:]", "missing", "missing|default('dflt')", "d|tojson", "xs|join(',')",
               "'  pad  '|trim", "'A'|lower", "n is even", "n is defined", "'b' in 'abc'", "not n",
               "n if n > 1 else 'small'", "xs|first", "xs|last", "d.items()|list", "'a,b'.split(',')",
               "n == 2 and 'y' or 'z'", "(n, 's')", "1.0 / 4", "'q\"q'", "\"it's\""]
    e = r.choice(choices)
    if depth < 1 and r.random() < 0.3:
        e = f"({e}) ~ ({expr(r, depth + 1)})"
    return e


def block(r, depth):
    parts = []
    for _ in range(r.randint(1, 4)):
        k = r.random()
        if k < 0.25:
            parts.append(ws(r) + r.choice(TEXT) + ws(r))
        elif k < 0.45:
            parts.append(f"{ws(r)}{{{{{vmod(r)} {expr(r)} {vmod(r)}}}}}{ws(r)}")
        elif k < 0.55:
            parts.append(f"{ws(r)}{{#{vmod(r)} note {vmod(r)}#}}{ws(r)}")
        elif k < 0.7 and depth < 3:
            cond = r.choice(["true", "false", "n > 1", "xs", "missing", "n is odd"])
            inner = block(r, depth + 1)
            els = f"{ws(r)}{{%{mod(r)} else {mod(r)}%}}{block(r, depth + 1)}" if r.random() < 0.5 else ""
            parts.append(f"{ws(r)}{{%{mod(r)} if {cond} {mod(r)}%}}{inner}{els}{ws(r)}{{%{mod(r)} endif {mod(r)}%}}{ws(r)}")
        elif k < 0.82 and depth < 3:
            seq = r.choice(["xs", "[1, 2]", "'ab'", "d", "range(3)", "[]"])
            tail = f"{{%{mod(r)} else {mod(r)}%}}E" if r.random() < 0.3 else ""
            parts.append(f"{ws(r)}{{%{mod(r)} for v in {seq} {mod(r)}%}}{ws(r)}{{{{ v }}}}{{{{ loop.index }}}}"
                         f"{block(r, depth + 1)}{tail}{ws(r)}{{%{mod(r)} endfor {mod(r)}%}}{ws(r)}")
        elif k < 0.9:
            parts.append(f"{ws(r)}{{%{mod(r)} set n = {r.choice(['n + 1', '5', 'n * 2'])} {mod(r)}%}}{ws(r)}")
        else:
            parts.append(f"{ws(r)}{{%{mod(r)} raw {mod(r)}%}}{ws(r)}{{{{ raw }}}}{ws(r)}{{%{mod(r)} endraw {mod(r)}%}}{ws(r)}")
    return "".join(parts)


ATOMS = ["0", "1", "-2", "7", "2.5", "-0.5", "1e3", "true", "false", "none", "''", "'ab'", "'Ab c'", "'é日'",
         "[]", "[1, 2]", "['x', 'y']", "(1, 'a')", "{}", "{'k': 1, 'j': 'v'}", "missing", "xs", "d", "n", "s"]
# No "**": jinja folds a negative literal to "-0.5" and emits `-0.5 ** y`, which Python
# evaluates as -(0.5 ** y); qlm follows the grammar instead.
BINOPS = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
UNARY = ["not {}", "-{}", "({})|string", "({})|length", "({})|tojson", "({})|list", "({})|first", "({})|last",
         "({})|trim", "({})|upper", "({})|lower", "({}) is defined", "({}) is none", "({}) is string",
         "({}) is number", "({}) is mapping", "({}) is iterable", "({})|default('D')", "({})|join('+')",
         "({})|int", "({})|float", "({})|abs", "({})|reverse|list", "({})|items|list", "({})|sort|list",
         "({})[0]", "({})[1:]", "({})[::-1]", "({})[-1]", "({}).k", "({})['j']", "({})|count", "({})|capitalize",
         "({}).split()", "({}).strip('a')", "({}).startswith('a')", "({}).upper()", "({}).replace('a', 'b')",
         "({}).items()|list", "({}).get('k')", "({})|sum", "({})|selectattr('k')|list", "({})|map('string')|list",
         "[{}]", "({}, 1)", "{{'key': {}}}", "({}) if n else 0", "'%s' ~ ({})"]


# jinja compiles `x[a:b]` to a plain Python subscript (TypeError on an int or dict), but its
# constant folder evaluates slices of literals through environment.getitem, which returns
# Undefined instead. qlm raises in both cases: stricter, never a silent difference.
FOLDED_SLICE_ERRORS = ("object is not subscriptable", "unhashable type: 'slice'")


def random_expr(r, depth=0):
    if depth > 2 or r.random() < 0.3:
        return r.choice(ATOMS)
    if r.random() < 0.5:
        return f"({random_expr(r, depth + 1)}) {r.choice(BINOPS)} ({random_expr(r, depth + 1)})"
    return r.choice(UNARY).format(random_expr(r, depth + 1))


CONTENTS = ["", " ", "hi", "  padded  ", "line1\nline2", "日本語 🗼", "quote ' and \" and \\", "<think>\nr\n</think>\n\nans",
            "<tool_response>\nx\n</tool_response>", "{{ x }} {% y %}", "\t\r\n", "</think>", "a</think>b<think>c"]


def random_message(r):
    role = r.choice(["user", "user", "assistant", "assistant", "system", "tool"])
    m = {"role": role, "content": r.choice(CONTENTS)}
    if r.random() < 0.05:
        m["content"] = r.choice([None, [{"type": "text", "text": "hi"}], 42])
    if role == "assistant" and r.random() < 0.3:
        calls = []
        for _ in range(r.randint(1, 2)):
            args = r.choice([{"city": "Paris"}, {"q": r.choice(CONTENTS), "n": r.choice([1, 2.5, None, True])}, "{\"raw\": 1}", {}])
            call = {"name": r.choice(["get_weather", "search"]), "arguments": args}
            calls.append({"type": "function", "function": call} if r.random() < 0.8 else call)
        m["tool_calls"] = calls
    if role == "assistant" and r.random() < 0.2:
        m["reasoning_content"] = r.choice(CONTENTS + [None])
    return m


def conversation_cases(r, count):
    templates = [chat_goldens.load_template(p, k) for p, k in chat_goldens.TEMPLATES.values()]
    cases = []
    for _ in range(count):
        messages = [random_message(r) for _ in range(r.randint(1, 6))]
        tools = r.choice([None, [], chat_goldens.TOOLS])
        extra = r.choice([{}, {"bos_token": "<s>"}, {"enable_thinking": False}, {"enable_thinking": True}])
        cases.append({"source": r.choice(templates), "messages": messages, "add_generation_prompt": r.random() < 0.5,
                      "tools": tools, "extra": extra})
    return cases


def float_cases(r, count):
    values = []
    for _ in range(count):
        k = r.random()
        if k < 0.3:
            values.append(r.uniform(-1e6, 1e6))
        elif k < 0.6:
            values.append(r.random() * 10 ** r.randint(-30, 30))
        elif k < 0.8:
            values.append(float(r.randint(-10 ** 17, 10 ** 17)))
        else:
            values.append(round(r.uniform(-100, 100), r.randint(0, 6)))
    return [{"source": "{% for x in xs %}{{ x }} {{ x|tojson }} {{ [x]|tojson(indent=1) }};{% endfor %}",
             "extra": {"xs": values}}]


def check(tool, cases):
    """Renders `cases` with jinja2 and qlm; returns (agree, tolerated, differ) counts."""
    wants = []
    for c in cases:
        try:
            wants.append({"output": chat_goldens.render(c["source"], c.get("messages", []), c.get("add_generation_prompt", False),
                                                        c.get("tools"), c.get("extra", {}))})
        except Exception as e:  # noqa: BLE001 - any jinja failure must be a qlm failure too
            wants.append({"error": f"{type(e).__name__}: {e}"})
    got = json.loads(subprocess.run([tool], input=json.dumps(cases), capture_output=True, text=True, check=True).stdout)
    bad = tolerated = 0
    for c, want, have in zip(cases, wants, got):
        if "output" in want and any(m in have.get("error", "") for m in FOLDED_SLICE_ERRORS):
            tolerated += 1
            continue
        if ("error" in want) != ("error" in have) or want.get("output") != have.get("output"):
            bad += 1
            if bad <= 5:
                print(f"--- MISMATCH\ncase: {json.dumps(c, ensure_ascii=False)[:600]}\njinja2: {want}\nqlm:    {have}")
    return len(cases) - bad - tolerated, tolerated, bad


def template_cases(r, count):
    variables = {"xs": [3, 1, 2], "d": {"k": "v", "z": [1, None]}, "n": 2, "s": " Mixed Case "}
    cases = []
    for _ in range(count):
        if r.random() < 0.5:
            source = block(r, 0) + r.choice(["", "\n", "\n\n", " "])
        else:
            source = "".join(f"{{{{ {random_expr(r)} }}}}|" for _ in range(r.randint(1, 3)))
        cases.append({"source": source, "extra": variables})
    return cases


MODES = {"templates": template_cases, "conversations": conversation_cases, "floats": float_cases}


def main():
    tool = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "all"
    if mode == "all":  # the quick run ctest does
        runs = [("templates", 2000), ("conversations", 500), ("floats", 1000)]
        seed = 1
    else:
        runs = [(mode, int(sys.argv[3]) if len(sys.argv) > 3 else 2000)]
        seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    failed = False
    for name, count in runs:
        if name == "conversations" and not os.path.isdir(chat_goldens.SHARED):
            # The real chat templates come from ../shared/data; without it only this mode skips.
            print(f"conversations: skipped, {os.path.normpath(chat_goldens.SHARED)} is absent")
            continue
        cases = MODES[name](random.Random(seed), count)
        agree, tolerated, bad = check(tool, cases)
        print(f"{name}: {agree}/{len(cases)} agree, {tolerated} tolerated, {bad} differ")
        failed |= bad > 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
