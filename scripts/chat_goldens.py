#!/usr/bin/python3
"""Writes tests/chat/golden/chat_cases.json: chat templates rendered by python3-jinja2 exactly as
Hugging Face apply_chat_template renders them, the reference for qlm's C++ interpreter.

Run from the repository root with Debian's python (python3-jinja2):
    /usr/bin/python3 scripts/chat_goldens.py
Templates are read from ../shared/data (never copied); each case records the template's
location, the variables, and either the expected text or the expected error message.
"""
import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "tests", "chat", "golden", "chat_cases.json")


# --- Hugging Face's environment (transformers' chat template utils) ---

def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # HF replaces jinja's HTML-escaping tojson with plain json.dumps.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.datetime.now().strftime(format)


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_env()


def render(source, messages, add_generation_prompt, tools, extra):
    template = ENV.from_string(source)
    return template.render(messages=messages, tools=tools, documents=None,
                           add_generation_prompt=add_generation_prompt, **extra)


# --- templates from ../shared/data ---

TEMPLATES = {
    # name: (path relative to shared data, key in the JSON file or None for a .jinja file)
    "qwen25": ("tokenizers/qwen2.5/tokenizer_config.json", "chat_template"),
    "qwen25_jinja": ("configs/qwen2.5-1.5b-instruct-transformers5/chat_template.jinja", None),
    "qwen25_mlx_jinja": ("configs/qwen2.5-7b-instruct-mlx-4bit/chat_template.jinja", None),
    "qwen3": ("tokenizers/qwen3/tokenizer_config.json", "chat_template"),
    "llama3": ("tokenizers/llama3/tokenizer_config.json", "chat_template"),
}


def load_template(path, key):
    with open(os.path.join(SHARED, path), encoding="utf-8") as f:
        return json.load(f)[key] if key else f.read()


def special_tokens(path):
    """The special-token variables HF passes (special_tokens_map), from tokenizer_config.json."""
    config_path = os.path.join(SHARED, os.path.dirname(path), "tokenizer_config.json")
    if not os.path.exists(config_path):
        return {}
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    out = {}
    for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
        value = config.get(key)
        if isinstance(value, dict):
            value = value.get("content")
        if isinstance(value, str):
            out[key] = value
    return out


# --- conversations ---

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather in a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "search_web", "description": "Search the web; returns the top results.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string"}, "max_results": {"type": "integer", "default": 3}},
            "required": ["query"]}}},
]

SYSTEM = {"role": "system", "content": "You are a terse assistant. Answer in one sentence."}
USER1 = {"role": "user", "content": "What is the capital of France?"}
ASSIST1 = {"role": "assistant", "content": "The capital of France is Paris."}
USER2 = {"role": "user", "content": "And of Japan? 日本の首都は？ 🗼"}
WEATHER_CALL = {"role": "assistant", "content": "", "tool_calls": [
    {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]}
TWO_CALLS = {"role": "assistant", "content": "Let me check both.", "tool_calls": [
    {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
    {"type": "function", "function": {"name": "search_web", "arguments": {"query": "Paris events \"today\"", "max_results": 2}}}]}
STRING_ARGS_CALL = {"role": "assistant", "content": "", "tool_calls": [
    {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Tokyo\"}"}}]}
TOOL_REPLY1 = {"role": "tool", "name": "get_weather", "content": "{\"temperature\": 18, \"sky\": \"clear\"}"}
TOOL_REPLY2 = {"role": "tool", "name": "search_web", "content": "1. Jazz festival\n2. Louvre late opening"}
WEATHER_ANSWER = {"role": "assistant", "content": "It is 18 °C and clear in Paris."}

CONVERSATIONS = [
    # name, messages, add_generation_prompt, tools
    ("user_only_gen", [USER1], True, None),
    ("user_only_nogen", [USER1], False, None),
    ("system_user_gen", [SYSTEM, USER1], True, None),
    ("system_user_nogen", [SYSTEM, USER1], False, None),
    ("multi_turn_gen", [SYSTEM, USER1, ASSIST1, USER2], True, None),
    ("multi_turn_no_system", [USER1, ASSIST1, USER2], True, None),
    ("multi_turn_ends_assistant", [USER1, ASSIST1, USER2, ASSIST1], False, None),
    ("tools_gen", [USER1], True, TOOLS),
    ("tools_with_system", [SYSTEM, USER1], True, TOOLS),
    ("tool_call_roundtrip", [USER1, WEATHER_CALL, TOOL_REPLY1, WEATHER_ANSWER, USER2], True, TOOLS),
    ("two_tool_calls_two_replies", [SYSTEM, USER1, TWO_CALLS, TOOL_REPLY1, TOOL_REPLY2], True, TOOLS),
    ("tool_call_string_arguments", [USER1, STRING_ARGS_CALL, TOOL_REPLY1], True, TOOLS),
    ("whitespace_and_quotes", [
        {"role": "user", "content": "  padded\ttext with 'single' and \"double\" quotes\n\n"},
        {"role": "assistant", "content": "\nline one\r\nline two  "},
        {"role": "user", "content": "{{ not a template }} {% neither %} \\n"}], True, None),
    ("empty_user_content", [{"role": "user", "content": ""}], True, None),
]

QWEN3_EXTRA = [
    ("think_in_content", [USER1, {"role": "assistant", "content": "<think>\nThe user asks about France.\n</think>\n\nParis."}, USER2], True, None),
    ("think_last_turn", [USER1, {"role": "assistant", "content": "<think>\nEasy.\n</think>\n\nParis."}], False, None),
    ("reasoning_content_field", [USER1, {"role": "assistant", "content": "Paris.", "reasoning_content": "\nRecall geography.\n"}], False, None),
    ("reasoning_then_tools", [USER1, dict(WEATHER_CALL, reasoning_content="Need the weather tool."), TOOL_REPLY1, WEATHER_ANSWER], True, TOOLS),
    ("tool_response_as_user", [USER1, {"role": "user", "content": "<tool_response>\nok\n</tool_response>"}, ASSIST1], True, None),
]


def cases():
    out = []
    for tname, (path, key) in TEMPLATES.items():
        source = load_template(path, key)
        specials = special_tokens(path)
        convs = list(CONVERSATIONS)
        if tname == "qwen3":
            convs += QWEN3_EXTRA
        for cname, messages, gen, tools in convs:
            extras = [({}, "")]
            if tname == "qwen3" and gen:
                extras = [({}, ""), ({"enable_thinking": False}, "_nothink"), ({"enable_thinking": True}, "_think")]
            for extra_vars, suffix in extras:
                extra = dict(specials, **extra_vars)
                out.append(make_case(f"{tname}_{cname}{suffix}", source, {"template_file": path, "template_key": key},
                                     messages, gen, tools, extra))
    for fname, source, variables in FEATURES:
        out.append(make_case(f"jinja_{fname}", source, {"source": source}, variables.get("messages", []),
                             variables.get("add_generation_prompt", False), variables.get("tools"),
                             {k: v for k, v in variables.items() if k not in ("messages", "add_generation_prompt", "tools")}))
    return out


def make_case(name, source, where, messages, gen, tools, extra):
    case = {"name": name, **where, "messages": messages, "add_generation_prompt": gen,
            "tools": tools, "extra": extra}
    try:
        case["expected"] = render(source, messages, gen, tools, extra)
    except jinja2.exceptions.TemplateError as e:
        case["expected_error"] = str(e)
    return case


# --- interpreter features, one small template each (rendered by jinja2 too) ---

XS = {"xs": [3, 1, 2], "d": {"b": 1, "a": [1, 2.5, None, True, "s"]}, "s": "  Hello, World  ",
      "people": [{"name": "Ann", "age": 31, "admin": True}, {"name": "bob", "age": 25}, {"name": "Cy", "age": 40, "admin": False}]}

FEATURES = [
    ("trim_blocks_lstrip", "start\n  {% if true %}\n    body\n  {% endif %}\nend\n", {}),
    ("minus_modifiers", "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}\n  c {{- ' d ' -}} e\n", {}),
    ("plus_modifiers", "x\n    {%+ if true +%}\ny\n    {%+ endif %}\nz", {}),
    ("comments", "a\n  {# comment #}\nb {#- trimmed -#} c\n  {#- x #}\nd", {}),
    ("variable_not_lstripped", "line\n    {{ 'v' }}\n  {% if true %}w{% endif %}  \n", {}),
    ("raw_block", "{% raw %}{{ not evaluated }} {% if %}{% endraw %}!", {}),
    ("crlf_and_trailing_newline", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("loop_variables", "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}", XS),
    ("loop_else_filter", "{% for x in xs if x > 1 %}{{ x }}/{{ loop.length }} {% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}", XS),
    ("loop_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop_scoping", "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + 10 %}{{ x }};{% endfor %}{{ x }}{% if true %}{% set y = 3 %}{% endif %}{{ y }}", {}),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("namespace", "{% set ns = namespace(n=0, found=false) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% if x == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.n }} {{ ns.found }}", XS),
    ("set_block_and_unpack", "{% set a, b = [1, 'two'] %}{% set blk %}[{{ a }}-{{ b }}]{% endset %}{{ blk }}{{ blk | length }}", {}),
    ("macro", "{% macro tag(name, value='v', sep=': ') %}<{{ name }}{{ sep }}{{ value }}>{% endmacro %}{{ tag('a') }}{{ tag('b', 2) }}{{ tag('c', sep='=', value=3) }}", {}),
    ("arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 1 / 4 }} {{ 3 / 1 }} {{ 1 + 2 * 3 - 4 }} {{ (1 + 2) * 3 }} {{ 1.5 + 1 }} {{ -3 | abs }} {{ 10 - 2.5 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}", {}),
    ("floats_print", "{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e-5 }} {{ 1e16 }} {{ 1e15 }} {{ 2.5e-3 }} {{ 123456.789 }} {{ 1/3 }}", {}),
    ("concat_and_strings", "{{ 'a' ~ 1 ~ none ~ true ~ [1] }}{{ 'ab' * 3 }}{{ 'x' + 'y' }}{{ \"q'q\" }}{{ 'esc\\t\\x41\\u00e9' }}", {}),
    ("comparisons", "{{ 1 < 2 < 3 }}{{ 1 < 3 < 2 }}{{ 'a' < 'b' }}{{ 1 == 1.0 }}{{ true == 1 }}{{ [1, 2] == [1, 2] }}{{ 'b' in 'abc' }}{{ 2 not in xs }}{{ 'a' in d }}{{ none == none }}{{ 1 != 2 }}{{ 2 >= 2 }}", XS),
    ("logic_and_ternary", "{{ true and 'x' }}|{{ 0 or [] }}|{{ not none }}|{{ 'y' if xs else 'n' }}|{{ 'y' if [] }}|{{ none or 'dflt' }}|{{ not 1 == 2 }}", XS),
    ("slicing", "{{ xs[::-1] }}{{ xs[1:] }}{{ xs[:-1] }}{{ xs[::2] }}{{ xs[-1] }}{{ 'héllo'[::-1] }}{{ 'héllo'[1] }}{{ 'abcdef'[1:5:2] }}{{ xs[5:] }}{{ 'abc'[-2:] }}", XS),
    ("print_values", "{{ d }}|{{ xs }}|{{ none }}|{{ true }}|{{ [('a', 1)] }}|{{ {'k': \"it's\"} }}|{{ undefined_name }}|{{ [1, 'a\\nb'] }}", XS),
    ("attribute_and_item", "{{ d.b }}{{ d['a'][1] }}{{ d.a.0 }}{{ d.missing is defined }}{{ people[0].name }}{{ people[-1]['age'] }}", XS),
    ("string_methods", "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ s.split(',') }}|{{ 'a b  c'.split() }}|{{ 'a-b-c'.split('-', 1) }}|{{ s.startswith('  He') }}{{ s.endswith('d') }}|{{ 'aXbX'.replace('X', '_') }}|{{ s.upper() }}{{ s.lower() }}|{{ 'hello world'.title() }}|{{ 'hello'.capitalize() }}|{{ 'banana'.find('an') }}{{ 'banana'.count('a') }}|{{ ', '.join(['a', 'b']) }}", XS),
    ("startswith_tuple", "{{ 'abc'.startswith(('x', 'a')) }}{{ 'abc'.endswith(('x', 'y')) }}", {}),
    ("dict_methods", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.keys() | list }}{{ d.get('b') }}{{ d.get('z', 'none') }}{{ d.get('z') }}", XS),
    ("filters_basic", "{{ s | trim }}|{{ xs | length }}|{{ 'héllo' | length }}|{{ 5 | string }}|{{ 'AbC' | lower }}{{ 'AbC' | upper }}|{{ xs | first }}{{ xs | last }}|{{ xs | join('-') }}|{{ 'aaa' | replace('a', 'b', 2) }}|{{ xs | list }}|{{ xs | sort }}|{{ xs | reverse | list }}|{{ 'abc' | reverse }}|{{ '42' | int + 1 }}|{{ '2.5' | float }}|{{ 'x' | int }}|{{ xs | sum }}|{{ 'hi there' | title }}{{ 'hI' | capitalize }}|{{ xs | count }}", XS),
    ("filter_default", "{{ missing | default('dflt') }}|{{ none | default('dflt') }}|{{ none | default('dflt', true) }}|{{ '' | d('empty', true) }}|{{ 'set' | default('no') }}", {}),
    ("filter_items_map_select", "{{ d | items | list }}|{{ people | map(attribute='name') | join(',') }}|{{ people | selectattr('admin') | map(attribute='name') | list }}|{{ people | rejectattr('admin') | map(attribute='name') | list }}|{{ people | selectattr('age', 'gt', 30) | map(attribute='age') | list }}|{{ ['a', 'B'] | map('upper') | list }}|{{ [1, 2, 3, 4] | select('even') | list }}|{{ [1, 2, 3, 4] | reject('odd') | list }}|{{ people | selectattr('admin', 'defined') | list | length }}|{{ people | sort(attribute='name') | map(attribute='name') | list }}|{{ people | map(attribute='missing', default='?') | list }}", XS),
    ("filter_tojson", "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ people[0] | tojson(sort_keys=true) }}|{{ xs | tojson(separators=(',', ':')) }}|{{ 'é\\n\"\\\\' | tojson }}|{{ {} | tojson }}{{ [] | tojson(indent=4) }}|{{ {'n': 1.0, 'e': 1e20, 'f': 0.5} | tojson }}|{{ '\\x01\\x7f' | tojson }}", XS),
    ("filter_indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width=1, blank=true) }}|{{ 'x\\ny' | indent('> ') }}", {}),
    ("tests", "{{ 1 is number }}{{ 1 is integer }}{{ 1.0 is float }}{{ true is boolean }}{{ 'a' is string }}{{ d is mapping }}{{ xs is iterable }}{{ xs is sequence }}{{ none is none }}{{ missing is undefined }}{{ 0 is false }}{{ false is false }}{{ true is true }}{{ 4 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 2 is in xs }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ 1 is eq 1 }}{{ 1 is ne 1 }}{{ 2 is gt 1 }}{{ none is sameas none }}{{ range is callable }}{{ d is not mapping }}", XS),
    ("undefined_behaviour", "[{{ missing }}][{{ missing | length }}][{{ missing | trim }}][{% for x in missing %}x{% endfor %}][{{ missing is defined }}][{{ 'a' in missing }}][{{ d.nope }}][{{ missing ~ 'z' }}][{% if missing %}t{% else %}f{% endif %}]", XS),
    ("range_dict", "{{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ range(5, 0, -2) | list }}{{ dict(a=1, b='x') }}{{ namespace(a=1).a }}", {}),
    ("multiline_string_literal", "{% set content = '<|header|>\n\n' + 'body' | trim + '<|eot|>' %}{{ content }}", {}),
    ("adjacent_strings_and_escapes", "{{ 'a' 'b' \"c\" }}{{ 'tab\\there' }}{{ '\\'' }}{{ \"\\\"\" }}{{ 'back\\\\slash' }}{{ 'unknown\\d' }}", {}),
    ("raise_exception", "{% if messages | length == 0 %}{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}ok", {}),
    ("messages_loop", "{% for m in messages %}{{ m.role | upper }}: {{ m['content'] }}{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}\nASSISTANT:{% endif %}", {"messages": [USER1, ASSIST1], "add_generation_prompt": True}),
    ("tools_loop", "{% if tools is not none %}{% for t in tools %}{{ t.function.name }}({{ t.function.parameters.properties | items | map('first') | join(', ') }}) {% endfor %}{% endif %}", {"tools": TOOLS}),
    ("unicode_text", "{{ 'éà Ωμέγα straße'.upper() if false else 'éà Ωμέγα'.upper() }}|{{ 'ÉCOLE Über'.lower() }}|{{ 'élan vital ÿ'.title() }}|{{ 'éLAN'.capitalize() }}|{{ '\u3000 x\u00a0y \u2003'.strip() }}|{{ 'a\u00a0b\u3000c'.split() }}|{{ 'ab1' is lower }}{{ '123' is lower }}{{ 'AB' is upper }}|{{ ' 4 ' | int }}{{ '3.7' | int }}|{{ 'Hé' | upper }}{{ 'Hé' | lower }}|{{ '日本abc def'.title() }}|{{ 'x y z'.split(none, 1) }}|{{ ' a b '.split(' ') }}", {}),
    ("percent_format", "{{ '%s and %s' % ('a', 1) }}|{{ '%s' % 'x' }}|{{ '%d%%' % 5 }}|{{ 'x' % [] }}|{{ '%r' % 'q' }}|{{ '%s' % [1] }}|{{ '%s' % (1,) }}|{{ '%5s|%-4d|%05d|%.2f|%.1s' % ('ab', 7, -42, 3.14159, 'xyz') }}|{{ '%(a)s-%(b)d' % {'a': 'A', 'b': 2} }}", {}),
    ("jinja_title_filter", "{{ \"hello-world's (x)[y] <z>\" | title }}|{{ 'ab cD' | title }}|{{ \"it's\".title() }}", {}),
    ("scoping_quirks", "{% for i in [1] %}{% for j in [1] %}[{{ n }}]{% endfor %}{% set n = 5 %}{% endfor %}|{% for i in [1] %}{{ n }}{% set n = 5 %}{% endfor %}|{% if false %}{% set n = 1 %}{% endif %}[{{ n }}]|{% set b %}[{{ n }}]{% set n = 4 %}{% endset %}{{ b }}{{ n }}|{% macro m() %}{% for j in [1] %}[{{ n }}]{% endfor %}{% set n = 4 %}{% endmacro %}{{ m() }}|{% for i in [1, 2] %}{% if i == 2 %}[{{ k }}]{% endif %}{% set k = i %}{% endfor %}", {"n": 2, "k": 9}),
    ("root_store_after_loop", "{% for i in [1] %}[{{ n }}]{% endfor %}{% set n = 5 %}{{ n }}", {"n": 2}),
    ("unicode_whitespace_control", "a\n\u00a0\u3000{% if true %}\nb\u2003\n\u00a0 {%- if true -%} \u3000\n c{{\u00a0'd'\u3000-}}\u00a0e\n{% endif %}{% endif %}", {}),
    ("int_float_filters", "{% for x in xs %}{{ x|int }},{{ x|float }},{{ x|int(-1) }};{% endfor %}", {"xs": [" 1_000 ", "0x1A", "1e3", "nan", "-5", "+5", "5.", ".5", "1__0", "_1", "12345678901234567", "3.99", "-3.99", "", "  ", "abc", 3.7, -3.7, 7, True, None, [1]]}),
    ("extra_filters", "{{ ['b', 'A', 'a', 'B', 'c'] | unique | list }}|{{ ['b', 'A', 'a'] | unique(true) | list }}|{{ people | unique(attribute='admin') | map(attribute='name') | list }}|{{ ['b', 'A', 'c'] | min }}{{ ['b', 'A', 'c'] | max }}{{ ['b', 'A', 'c'] | max(case_sensitive=true) }}|{{ people | min(attribute='age') }}|{{ [] | max }}|{{ {'b': 1, 'A': 3, 'c': 2} | dictsort }}|{{ {'b': 1, 'A': 3, 'c': 2} | dictsort(by='value', reverse=true) }}|{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 7 | round }} {{ -1.25 | round(1) }} {{ 1.21 | round(1, 'ceil') }} {{ 1.29 | round(1, 'floor') }} {{ 0.5 | round }}|{{ '%s-%s' | format('a', 2) }}|{{ '%(x)s!' | format(x='y') }}", XS),
    ("repr_non_printable", "{{ [s] }}|{{ {'k': s} }}|{{ (s, 1) }}", {"s": "a\xa0b\xad\u200b\u2028\ue000\U000f0000\x85\u3000\ufeff\U000e0001 é日🗼 \x01\x7f q\"'\\ \u0600"}),
    ("loop_cycle", "{% for x in range(5) %}{{ loop.cycle('odd', 'even') }} {% endfor %}", {}),
    ("generation_prompt_false", "{{ add_generation_prompt }}{{ tools }}", {}),
]


# Templates in the style of other model families (written for these tests, following the
# constructs those families' published templates use), so the interpreter meets them too.
LLAMA31_STYLE = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
    {%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

MISTRAL_STYLE = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

GEMMA_STYLE = """{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '
' + message['content'] | trim + '<end_of_turn>
' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model
'}}{% endif %}"""

DEEPSEEK_STYLE = """{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor -%}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"""

WHITESPACE_STRESS = """<s>
  {% for m in messages %}
    {%- if m.role == 'user' %}
  U: {{ m.content }}
    {% elif m.role == 'assistant' -%}
      A: {{- ' ' + m.content }}
    {%+ endif %}
	{# tab-indented comment #}
  {%- endfor %}  
{% if add_generation_prompt %}  A:{% endif %}
"""

STYLE_CONVERSATIONS = {
    "plain": ([USER1, ASSIST1, USER2], True, None),
    "system": ([SYSTEM, USER1, ASSIST1, USER2], True, None),
}
FAMILY_TEMPLATES = [
    ("llama31_style", LLAMA31_STYLE, {"bos_token": "<|begin_of_text|>"}),
    ("mistral_style", MISTRAL_STYLE, {"bos_token": "<s>", "eos_token": "</s>"}),
    ("gemma_style", GEMMA_STYLE, {"bos_token": "<bos>"}),
    ("deepseek_style", DEEPSEEK_STYLE, {"bos_token": "<｜begin▁of▁sentence｜>"}),
    ("whitespace_stress", WHITESPACE_STRESS, {}),
]
FAMILY_CONVERSATIONS = [
    ("plain", [USER1, ASSIST1, USER2], True, None),
    ("system", [SYSTEM, USER1, ASSIST1, USER2], True, None),
    ("think", [USER1, {"role": "assistant", "content": "<think>hmm</think>Paris."}, USER2], False, None),
    ("tools", [SYSTEM, USER1, WEATHER_CALL, {"role": "tool", "content": {"temperature": 18}}], True, TOOLS),
    ("not_alternating", [USER1, USER2], True, None),
]


def family_cases():
    out = []
    for tname, source, specials in FAMILY_TEMPLATES:
        for cname, messages, gen, tools in FAMILY_CONVERSATIONS:
            extras = [dict(specials)]
            if tname == "llama31_style" and tools:
                extras.append(dict(specials, tools_in_user_message=False))
            for i, extra in enumerate(extras):
                suffix = "_tools_in_system" if i else ""
                out.append(make_case(f"family_{tname}_{cname}{suffix}", source, {"source": source},
                                     messages, gen, tools, extra))
    return out


def main():
    if not os.path.isdir(SHARED):
        sys.exit(f"shared data not found at {SHARED}")
    all_cases = cases() + family_cases()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/chat_goldens.py", "jinja2_version": jinja2.__version__,
                   "cases": all_cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum("expected_error" in c for c in all_cases)
    print(f"wrote {len(all_cases)} cases ({errors} expecting an error) to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
