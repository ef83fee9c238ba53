using static StepSharp.Tests.Chat.Templates.TemplateTestHelper;

namespace StepSharp.Tests.Chat.Templates;

/// <summary>
/// Whitespace control as Jinja2 documents it ("Whitespace Control" in the template designer docs) with
/// trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False.
/// </summary>
public sealed class ChatTemplateWhitespaceTests
{
    [Theory]
    // trim_blocks: the newline right after a block tag goes away; text inside is kept as written.
    [InlineData("{% if true %}\n  x\n{% endif %}\n", "  x\n")]
    // lstrip_blocks: indentation before a block tag on its own line goes away.
    [InlineData("<a>\n    {% if true %}\n    b\n    {% endif %}\n</a>", "<a>\n    b\n</a>")]
    // '-' strips all whitespace, newlines included, on its side.
    [InlineData("a \n  {{- 'b' -}} \n c", "abc")]
    [InlineData("a\n\n{%- if true -%}\n\n b{% endif %}", "ab")]
    // '+' on the left keeps the indentation (disables lstrip_blocks for that tag).
    [InlineData("x\n    {%+ if true %}y{% endif %}", "x\n    y")]
    // '+' on the right keeps the newline (disables trim_blocks for that tag).
    [InlineData("{% if true +%}\nz{% endif %}", "\nz")]
    // Comments are trimmed like blocks.
    [InlineData("a\n  {# note #}\nb", "a\nb")]
    // Print tags are neither lstripped nor trimmed.
    [InlineData("  {{ 'v' }}\nw", "  v\nw")]
    // lstrip only applies when the tag starts its line.
    [InlineData("t  {% if true %}u{% endif %}", "t  u")]
    // keep_trailing_newline=False drops exactly one final newline of the source.
    [InlineData("x\n\n", "x\n")]
    // Newlines are normalised to \n.
    [InlineData("a\r\nb\rc", "a\nb\nc")]
    // Template text is not unescaped: a backslash-n in text stays two characters.
    [InlineData("x\\ny", "x\\ny")]
    [InlineData("{% raw %}{{ not evaluated }}{% endraw %}", "{{ not evaluated }}")]
    // Jinja's raw_begin rule has no trim_blocks suffix, but endraw is trimmed and lstripped like any block.
    [InlineData("{% raw %}\nx\n   {% endraw %}\ny", "\nx\ny")]
    [InlineData("{% raw -%}\n  x {%- endraw %}", "x")]
    public void MatchesJinja2WhitespaceRules(string source, string expected)
    {
        Assert.Equal(expected, Render(source));
    }
}
