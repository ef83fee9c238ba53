using static StepSharp.Tests.Chat.Templates.TemplateTestHelper;

namespace StepSharp.Tests.Chat.Templates;

/// <summary>
/// Expression and statement semantics with expected values derived from the Jinja2 documentation and
/// Python's rules (str() of containers, json.dumps, slicing, floor division...).
/// </summary>
public sealed class ChatTemplateSemanticsTests
{
    [Theory]
    [InlineData("{% for x in ['a','b','c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}",
        "103TrueFalse3|212FalseFalse3|321FalseTrue3|")]
    [InlineData("{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}", "-2;1-3;2-;")]
    [InlineData("{% for x in range(4) %}{{ loop.cycle('a','b') }}{% endfor %}", "abab")]
    [InlineData("{% for x in [] %}x{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for x in range(6) if x is even %}{{ x }}{{ loop.last }},{% endfor %}", "0False,2False,4True,")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;")]
    [InlineData("{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}", "ab")]
    [InlineData("{% for x in range(10) %}{% if x == 3 %}{% break %}{% endif %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% endfor %}", "02")]
    [InlineData("{% for x in missing %}x{% endfor %}", "")]
    public void LoopVariables(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    // A set inside a loop does not leak out: that is why templates use namespace().
    [InlineData("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1")]
    [InlineData("{% set ns = namespace(x=1) %}{% for i in [1,2] %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}", "4")]
    [InlineData("{% set ns = namespace() %}{% set ns.found = true %}{{ ns.found }}", "True")]
    [InlineData("{% if true %}{% set y = 5 %}{% endif %}{{ y }}", "5")]
    [InlineData("{% set a, b = 1, 2 %}{{ b }}{{ a }}", "21")]
    [InlineData("{% set block %}in {{ 1 + 1 }}{% endset %}[{{ block }}]", "[in 2]")]
    [InlineData("{% set shout | upper %}hi{% endset %}{{ shout }}", "HI")]
    [InlineData("{% with a = 3 %}{{ a }}{% endwith %}{{ a is defined }}", "3False")]
    public void AssignmentAndScoping(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ [1,2,3,4,5][::-1] }}", "[5, 4, 3, 2, 1]")]
    [InlineData("{{ 'hello'[1:-1] }}", "ell")]
    [InlineData("{{ [1,2,3,4,5][-2:] }}", "[4, 5]")]
    [InlineData("{{ [1,2,3,4,5][::2] }}", "[1, 3, 5]")]
    [InlineData("{{ [0,1,2,3,4,5][4:1:-2] }}", "[4, 2]")]
    [InlineData("{{ 'abc'[-1] }}{{ 'abc'[::-1] }}", "ccba")]
    [InlineData("{{ [1,2][5] is defined }}", "False")]
    // Python strings index by code point: the emoji is one character.
    [InlineData("{{ 'a🚆b'[1] }}|{{ 'a🚆b'[::-1] }}|{{ 'a🚆b'[-2:] }}|{{ 'a🚆b' | reverse }}|{{ 'a🚆b' | list | length }}", "🚆|b🚆a|🚆b|b🚆a|3")]
    public void Slicing(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ {'a': 1, 'b': [True, None, 1.5, 'x']} }}", "{'a': 1, 'b': [True, None, 1.5, 'x']}")]
    [InlineData("{{ none }}|{{ true }}|{{ false }}", "None|True|False")]
    [InlineData("{{ [\"it's\"] }}", "[\"it's\"]")]
    [InlineData("{{ ['a\\nb'] }}", "['a\\nb']")]
    [InlineData("{{ ('a', 1) }}{{ (1,) }}", "('a', 1)(1,)")]
    [InlineData("{{ ['Zürich 🚆', 'zero\u200bwidth', 'bell\x07'] }}", "['Zürich 🚆', 'zero\\u200bwidth', 'bell\\x07']")]
    [InlineData("{{ '🚆ab' | length }}", "3")]
    [InlineData("{{ 1e-5 }} {{ 1e16 }} {{ 123456789.0 }} {{ 0.0001 }} {{ 1250.5 }}", "1e-05 1e+16 123456789.0 0.0001 1250.5")]
    [InlineData("{{ 10 / 4 }} {{ 10 / 5 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}", "2.5 2.0 3 -4 2 1024")]
    [InlineData("{{ 'a' ~ 1 ~ none ~ missing ~ 2.0 }}", "a1None2.0")]
    [InlineData("{{ missing }}", "")]
    [InlineData("{{ true | string }}{{ none | string }}{{ 3 | string }}", "TrueNone3")]
    public void PythonStrOfValues(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ {'name': 'Zoë', 'emoji': '🚆', 'n': [1, 2.5, none, true]} | tojson }}", "{\"name\": \"Zoë\", \"emoji\": \"🚆\", \"n\": [1, 2.5, null, true]}")]
    [InlineData("{{ 'Zoë🚆' | tojson(ensure_ascii=true) }}", "\"Zo\\u00eb\\ud83d\\ude86\"")]
    [InlineData("{{ {'a': [1, {}], 'b': {}} | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {}\n}")]
    [InlineData("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}", "{\"a\": 2, \"b\": 1}")]
    [InlineData("{{ [1, {'a': 2}] | tojson(separators=(',', ':')) }}", "[1,{\"a\":2}]")]
    [InlineData("{{ '<a href=\"x\">&' | tojson }}", "\"<a href=\\\"x\\\">&\"")]
    [InlineData("{{ 'a\\nb\\t\\u0001' | tojson }}", "\"a\\nb\\t\\u0001\"")]
    [InlineData("{{ {'outer': {'inner': ['ü', 1e-05]}} | tojson }}", "{\"outer\": {\"inner\": [\"ü\", 1e-05]}}")]
    public void ToJsonIsPythonJsonDumps(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', greeting='Hi') }}", "Hello, Ann! Hi, Bob!")]
    [InlineData("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inner{% endcall %}", "[inner]")]
    [InlineData("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}", "321")]
    [InlineData("{% macro m(x) %}{{ x is defined }}{% endmacro %}{{ m() }}{{ m(1) is string }}", "FalseTrue")]
    [InlineData("{% set top = 'T' %}{% macro m() %}{{ top }}{% endmacro %}{{ m() }}", "T")]
    [InlineData("{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) each([1, 2]) %}<{{ x }}>{% endcall %}", "<1><2>")]
    [InlineData("{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k='v') }}", "(1, 2){'k': 'v'}")]
    [InlineData("{% filter upper %}abc{{ 'd' }}{% endfilter %}", "ABCD")]
    [InlineData("{% for n in [{'v': 1, 'c': [{'v': 2, 'c': []}]}] recursive %}{{ n.v }}{{ loop.depth }}{{ loop(n.c) }}{% endfor %}", "1122")]
    [InlineData("{% generation %}kept{% endgeneration %}", "kept")]
    public void Macros(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}", "x|hi")]
    [InlineData("{{ [3,1,2] | sort | join(',') }}", "1,2,3")]
    [InlineData("{{ ['b','A','c'] | sort }}", "['A', 'b', 'c']")]
    [InlineData("{{ [{'n': 'x', 'k': 1}, {'n': 'y', 'k': 0}] | selectattr('k') | map(attribute='n') | list }}", "['x']")]
    [InlineData("{{ [{'r': 'user'}, {'r': 'tool'}] | rejectattr('r', 'equalto', 'tool') | list | length }}", "1")]
    [InlineData("{{ [1,2,3,4] | select('odd') | list }}{{ [1,2,3,4] | reject('divisibleby', 2) | list }}", "[1, 3][1, 3]")]
    [InlineData("{{ missing | default('d') }}{{ '' | default('e', true) }}{{ '' | d('f') }}", "de")]
    [InlineData("{{ 'hello wORLD' | title }} {{ 'hello wORLD' | capitalize }}", "Hello World Hello world")]
    [InlineData("{{ [1,1,2] | unique | list }} {{ [1,2,3] | sum }} {{ [4,2,8] | max }} {{ [4,2,8] | min }}", "[1, 2] 6 8 2")]
    [InlineData("{{ 3.7 | int }} {{ '42' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }}", "3 43 0 2.5")]
    [InlineData("[{{ 'x' | center(5) }}]", "[  x  ]")]
    [InlineData("{{ {'b': 1, 'a': 2} | dictsort }}", "[('a', 2), ('b', 1)]")]
    [InlineData("{{ [1,2,3,4,5] | batch(2) | list }}", "[[1, 2], [3, 4], [5]]")]
    [InlineData("{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}", "a\n  b\n\n  c|  a\n  b")]
    [InlineData("{{ '%s-%d' | format('x', 3) }} {{ 'one two three' | wordcount }}", "x-3 3")]
    [InlineData("{{ 2.5 | round }} {{ 3.14159 | round(2) }} {{ -3 | abs }} {{ 2.1 | round(0, 'ceil') }}", "2.0 3.14 3 3.0")]
    [InlineData("{{ 'abcdefghij' | truncate(5, leeway=0) }}", "ab...")]
    [InlineData("{{ {'a': 1} | items | list }} {{ 'abc' | list }} {{ [1,2] | reverse | list }}", "[('a', 1)] ['a', 'b', 'c'] [2, 1]")]
    [InlineData("{{ ['a','b'] | map('upper') | join }} {{ 'x' | replace('x', 'y') }} {{ '<b>' | e }}", "AB y &lt;b&gt;")]
    [InlineData("{{ [1,2,3] | first }}{{ [1,2,3] | last }}{{ 'abc' | length }}{{ {'a': 1} | count }}", "1331")]
    public void Filters(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ 1 is number }}{{ true is number }}{{ true is integer }}{{ 1.0 is float }}{{ 1 is boolean }}", "TrueTrueFalseTrueFalse")]
    [InlineData("{{ 'x' is string }}{{ {} is mapping }}{{ [] is sequence }}{{ 'x' is iterable }}{{ {} is iterable }}", "TrueTrueTrueTrueTrue")]
    [InlineData("{{ none is none }}{{ x is defined }}{{ x is undefined }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}", "TrueFalseTrueTrueTrue")]
    [InlineData("{{ 2 is eq 2 }}{{ 2 is ne 2 }}{{ 1 is lt 2 }}{{ 'a' is in 'abc' }}{{ false is sameas false }}{{ 'ab' is lower }}", "TrueFalseTrueTrueTrueTrue")]
    [InlineData("{{ 'x' is not string }}{{ not 1 is odd }}{{ range is callable }}", "FalseFalseTrue")]
    [InlineData("{{ 1 if true }}|{{ 1 if false }}|{{ 1 if false else 2 }}", "1||2")]
    [InlineData("{{ 'b' in 'abc' }}{{ 2 not in [1, 3] }}{{ 'k' in {'k': 0} }}{{ 'x' in missing }}", "TrueTrueTrueFalse")]
    [InlineData("{{ 1 < 2 < 3 }}{{ 1 == 1.0 }}{{ [1, 2] == [1, 2] }}{{ {'a': 1} == {'a': 1} }}{{ missing == missing }}", "TrueTrueTrueTrueTrue")]
    [InlineData("{{ 0 or 'y' }}{{ 'x' and 0 }}{{ [] or none }}", "y0None")]
    public void TestsAndOperators(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ 'a,b,,c'.split(',') }}{{ '  a  b '.split() }}", "['a', 'b', '', 'c']['a', 'b']")]
    [InlineData("{{ 'xxhixx'.strip('x') }}{{ 'hi\n\n'.rstrip('\\n') }}{{ '\n\nhi'.lstrip() }}", "hihihi")]
    [InlineData("{{ 'hello'.startswith(('he', 'x')) }}{{ 'hello'.endswith('lo') }}", "TrueTrue")]
    [InlineData("{{ 'a-b-c'.rsplit('-', 1) }}{{ 'a-b-c'.split('-', 1) }}", "['a-b', 'c']['a', 'b-c']")]
    [InlineData("{{ {'a': 1}.get('b', 'z') }}{{ {'a': 1}.get('a') }}{{ {'a': 1}.get('b') }}", "z1None")]
    [InlineData("{{ 'Hello'.replace('l', 'L', 1) }}{{ 'abc'.upper() }}{{ 'x{}y{}'.format(1, 2) }}", "HeLloABCx1y2")]
    [InlineData("{{ {'a': 1, 'b': 2}.keys() | list }}{{ {'a': 1, 'b': 2}.values() | list }}", "['a', 'b'][1, 2]")]
    [InlineData("{{ {'items': 5}['items'] }}{{ {'k': 'v'}.k }}{{ none.attr is defined }}", "5vFalse")]
    // The immutable sandbox turns mutating methods into an "unsafe" Undefined: not defined, prints nothing.
    [InlineData("{{ [1].append is defined }}[{{ [1].append }}]{{ {}.update is defined }}{{ 'abc'['upper']() }}", "False[]FalseABC")]
    public void PythonMethods(string source, string expected) => Assert.Equal(expected, Render(source));

    [Fact]
    public void StrftimeNowUsesTheInjectedClock()
    {
        Assert.Equal("2026-11-23 November 23, 2026 Mon 00:00", Render("{{ strftime_now('%Y-%m-%d %B %d, %Y %a %H:%M') }}"));
    }

    [Fact]
    public void VariablesFromClrValuesKeepPythonTypes()
    {
        var messages = new List<object?> { new Dictionary<string, object?> { ["role"] = "user", ["n"] = 3, ["f"] = 0.5 } };
        Assert.Equal("user 3 0.5 True", Render("{% for m in messages %}{{ m.role }} {{ m.n }} {{ m.f }} {{ m.n is integer }}{% endfor %}", ("messages", messages)));
    }
}
